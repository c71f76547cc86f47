//! Progress bars for long byte-counting work (hashing, writing, verifying,
//! staging), shared by `hop-build` and `hop-install`. They draw only on a
//! terminal: off a terminal indicatif hides them, so logs and CI stay
//! clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` bytes, labelled `message`.
pub fn bytes(total: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>9} [{bar:32}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// Reads and verifies every member of a package whose head is open,
/// showing a bar over its `total` bytes.
pub fn verify<R: std::io::Read>(
    reader: crate::reader::PackageReader<R>,
    total: u64,
) -> Result<crate::reader::Verified, crate::PackageError> {
    let bar = bytes(total, "verifying");
    let result = reader.for_each_member(|_, data| {
        let n = std::io::copy(data, &mut std::io::sink())?;
        bar.inc(n);
        Ok(())
    });
    bar.finish_and_clear();
    result
}
