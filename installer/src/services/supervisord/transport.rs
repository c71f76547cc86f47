//! XML-RPC over supervisord's unix socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// XML-RPC over HTTP/1.0 on a unix socket, as supervisord serves it.
pub(super) struct UnixHttp<'a> {
    pub socket: &'a Path,
    pub timeout: Duration,
}

impl xmlrpc::Transport for UnixHttp<'_> {
    type Stream = std::io::Cursor<Vec<u8>>;

    fn transmit(
        self,
        request: &xmlrpc::Request<'_>,
    ) -> Result<Self::Stream, Box<dyn std::error::Error + Send + Sync>> {
        let mut body = Vec::new();
        request.write_as_xml(&mut body)?;
        let mut stream = UnixStream::connect(self.socket)?;
        stream.set_read_timeout(Some(self.timeout.max(Duration::from_millis(100))))?;
        write!(
            stream,
            "POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        stream.write_all(&body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("supervisord sent no HTTP header")?;
        let status = String::from_utf8_lossy(&response[..split])
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        if !status.contains(" 200 ") {
            return Err(format!("supervisord answered {status}").into());
        }
        Ok(std::io::Cursor::new(response[split + 4..].to_vec()))
    }
}
