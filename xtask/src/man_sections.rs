//! What man pages need beyond the options clap knows: FILES, ENVIRONMENT
//! and EXIT STATUS for each tool, and `host.yaml(5)`, so a customer
//! without internet has the reference on the host (roff text).

/// The sections after OPTIONS (and SUBCOMMANDS) of `tool`'s pages.
pub fn extra(tool: &str) -> &'static str {
    match tool {
        "hop-install" => INSTALL,
        _ => BUILD,
    }
}

const INSTALL: &str = r#".SH FILES
.TP
\fB/etc/hop/host.yaml\fR
What hop needs to know about this host: product, database, service manager, trusted keys (see \fBhost.yaml\fR(5)). Only root may write it.
.TP
\fB/etc/hop/trusted\-keys/\fR
The vendor's OpenPGP public keys (\fI*.asc\fR); a package signed by no key here is refused.
.TP
\fB/var/lib/hop/state.json\fR
The installed version, its components and deployed configs, as hop last committed them.
.TP
\fB/var/lib/hop/operations/\fR\fIID\fR\fB/\fR
One operation: its journal (\fIjournal.json\fR, each step and the actions it performed), log, backup and staging. \fBresume\fR and \fBrollback\fR read it.
.TP
\fB/var/lib/hop/installed/\fR
The signed \fIhop.yaml\fR and payload of the installed version.
.TP
\fB/var/lib/hop/rehearsals/\fR
The last rehearsal of each package (\fBrehearse\fR), which \fB\-\-max\-downtime\fR relies on.
.TP
\fB/var/lib/hop/downloads/\fR
Packages fetched from https:// or s3:// sources, with their partial downloads.
.SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
Set: no colour on the terminal.
.TP
\fBHOP_PROGRESS_SECONDS\fR
Seconds between progress lines of long work (default 5).
.TP
\fBAWS_ACCESS_KEY_ID\fR, \fBAWS_SECRET_ACCESS_KEY\fR, \fBAWS_SESSION_TOKEN\fR, \fBAWS_PROFILE\fR, \fBAWS_REGION\fR
Credentials and region for s3:// package sources (else \fI~/.aws/credentials\fR).
.TP
\fBSUDO_USER\fR, \fBUSER\fR
Who accepted a waived check (\fB\-\-accept\fR), as the history records it.
.PP
Nothing else of hop's environment reaches the tools it runs (rpm, the service manager, the database's clients, hooks): they get a plain PATH and the locale.
.SH "EXIT STATUS"
.TP
\fB0\fR
Done (or nothing to do: the host already runs the package's version).
.TP
\fB1\fR
The operation failed and the host was rolled back to where it was.
.TP
\fB2\fR
Refused before anything changed; the message says what was wrong and what to do.
.TP
\fB3\fR
Failed, or unfinished, and needs attention; the message names the next command (\fBstatus\fR exits 3 while an operation is open).
.SH "SEE ALSO"
\fBhost.yaml\fR(5), \fBhop\-build\fR(1)
"#;

const BUILD: &str = r#".SH FILES
.TP
\fIhop.yaml\fR (source manifest)
The hop to build: components, configs, migrations, services, checks; paths in it are relative to it.
.TP
\fIKEY\fR\fB.sec.asc\fR, \fIKEY\fR\fB.pub.asc\fR
The signing key \fBkeygen\fR writes (the secret one mode 0600; a key others may read is warned of).
.SH ENVIRONMENT
.TP
\fBSOURCE_DATE_EPOCH\fR
The time written into the package, for reproducible builds (default: the newest input's).
.TP
\fBHOP_KEY_PASSPHRASE\fR
The passphrase of a protected signing key.
.SH "EXIT STATUS"
.TP
\fB0\fR
Built (or published, inspected).
.TP
\fB1\fR
Failed while working (a tool or the file system).
.TP
\fB2\fR
Refused: the inputs would make a package no host could install; the message names the field.
.SH "SEE ALSO"
\fBhop\-install\fR(1)
"#;

/// `host.yaml(5)`.
pub const HOST_YAML: &str = r#".TH HOST.YAML 5 "" "hop" "File Formats"
.SH NAME
host.yaml \- what hop\-install needs to know about a manager host
.SH SYNOPSIS
\fB/etc/hop/host.yaml\fR
.SH DESCRIPTION
A YAML file, owned by root and writable by no one else (hop refuses it otherwise). Unknown fields are refused. Every absolute path in it is taken inside \fB\-\-root\fR.
.TP
\fBproduct\fR
The product's name; packages for another product are refused.
.TP
\fBversion_from_rpm\fR
Before hop's first run on the host, the installed version is this RPM's version.
.TP
\fBdatabase.url\fR
\fBpostgresql://\fR\fIuser\fR\fB@\fR\fIhost\fR[\fB:\fR\fIport\fR]\fB/\fR\fIdb\fR (a Unix socket: \fB?host=/var/run/postgresql\fR), \fBmysql://\fR or \fBmariadb://\fR (a socket: \fB?socket=/run/mysqld/mysqld.sock\fR), or \fBsqlite:///\fR\fIpath\fR. A password in it is never printed or logged.
.TP
\fBservices.manager\fR
\fBsystemd\fR or \fBsupervisord\fR; with supervisord, \fBservices.supervisord_conf\fR names its configuration.
.TP
\fBtrusted_keys\fR
The directory of the vendor's public keys (\fI*.asc\fR), owned by root.
.TP
\fBrpm_cache\fR
Optional: a directory of the installed version's original RPMs, used for a rollback only if it and every directory above it belong to root and no one else may write them.
.SH EXAMPLE
.nf
product: manager
version_from_rpm: rest\-service
database:
  url: postgresql://manager@localhost/manager?host=/var/run/postgresql
services:
  manager: systemd
trusted_keys: /etc/hop/trusted\-keys/
.fi
.SH "SEE ALSO"
\fBhop\-install\fR(1); /usr/share/doc/hop\-installer/host.yaml.example
"#;
