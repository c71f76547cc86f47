//! What hop reads from the RPM database: the files a package owns, and
//! `rpm -V`'s verdicts.

/// One path an installed package owns, as its header describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFile {
    pub path: String,
    /// `st_mode` as the header records it (type and permission bits).
    pub mode: u32,
    pub user: String,
    pub group: String,
    /// Hex digest of a regular file's content (empty for others).
    pub digest: String,
    /// RPMFILE_* flags: `%config` is 1, `%ghost` 64.
    pub flags: u32,
}

impl OwnedFile {
    pub fn is_config(&self) -> bool {
        self.flags & 1 != 0
    }
    pub fn is_ghost(&self) -> bool {
        self.flags & 64 != 0
    }
    pub fn is_regular(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }
}

/// The files of one installed package and how their digests are made.
#[derive(Clone, Debug)]
pub struct PackageFiles {
    pub nevra: String,
    /// RPM's digest algorithm number (8 = SHA-256, 1 = MD5, …).
    pub digest_algo: u32,
    pub files: Vec<OwnedFile>,
}

/// One line of `rpm -V`: a path and what differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub path: String,
    /// rpm's nine-letter test result (`S.5....T.`) or `missing`.
    pub result: String,
    /// The file is `%config`.
    pub config: bool,
}

/// Reads `rpm -V` output.
pub fn parse_verify(text: &str) -> Vec<Verified> {
    text.lines()
        .filter_map(|line| {
            let path_at = line.find(" /")?;
            let (head, path) = line.split_at(path_at);
            let mut words = head.split_whitespace();
            let result = words.next()?.to_owned();
            let config = words.next() == Some("c");
            Some(Verified {
                path: path.trim().to_owned(),
                result,
                config,
            })
        })
        .collect()
}
