//! A response body read with an idle limit: a server that keeps the
//! connection open and sends nothing would otherwise hold hop for ever
//! (the HTTP client's timeouts bound the connection and the headers, not
//! the silence in the middle of a body). A thread reads the body; the
//! caller waits for its chunks a second at a time, so it can report while
//! it waits, and gives up after the idle limit. The reading thread of a
//! body given up on ends when its connection does.

use std::io::Read;
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant};

/// What waiting for the next bytes gave.
pub enum Poll {
    /// This many bytes were copied into the buffer (0: the body ended).
    Data(usize),
    /// The body failed.
    Failed(std::io::Error),
    /// Nothing for this long so far.
    Idle(Duration),
}

/// A body whose bytes arrive from a reading thread.
pub struct Guarded {
    chunks: Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    since: Instant,
    ended: bool,
}

/// How much the reading thread reads at once.
const CHUNK: usize = 64 << 10;

impl Guarded {
    pub fn new(mut body: Box<dyn Read + Send>) -> Self {
        let (tx, rx) = sync_channel(4);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let r = body.read(&mut buf).map(|n| buf[..n].to_vec());
                let end = !matches!(&r, Ok(b) if !b.is_empty());
                if tx.send(r).is_err() || end {
                    break;
                }
            }
        });
        Self {
            chunks: rx,
            pending: Vec::new(),
            since: Instant::now(),
            ended: false,
        }
    }

    /// Copies what has arrived into `buf`, waiting at most `wait`.
    pub fn poll(&mut self, buf: &mut [u8], wait: Duration) -> Poll {
        if self.pending.is_empty() && !self.ended {
            match self.chunks.recv_timeout(wait) {
                Ok(Ok(chunk)) if chunk.is_empty() => self.ended = true,
                Ok(Ok(chunk)) => self.pending = chunk,
                Ok(Err(e)) => return Poll::Failed(e),
                Err(RecvTimeoutError::Timeout) => return Poll::Idle(self.since.elapsed()),
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
        self.since = Instant::now();
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Poll::Data(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body that sends a few bytes, then nothing for a long time.
    struct Stalling(bool);

    impl Read for Stalling {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.0 {
                self.0 = true;
                buf[..3].copy_from_slice(b"hop");
                return Ok(3);
            }
            std::thread::sleep(Duration::from_secs(30));
            Ok(0)
        }
    }

    #[test]
    fn a_body_that_goes_silent_is_seen_idle_and_its_bytes_are_kept() {
        let mut body = Guarded::new(Box::new(Stalling(false)));
        let mut buf = [0u8; 16];
        assert!(matches!(
            body.poll(&mut buf, Duration::from_secs(5)),
            Poll::Data(3)
        ));
        assert_eq!(&buf[..3], b"hop");
        match body.poll(&mut buf, Duration::from_millis(200)) {
            Poll::Idle(d) => assert!(d >= Duration::from_millis(200)),
            _ => panic!("a silent body is not idle"),
        }
    }

    #[test]
    fn a_whole_body_arrives_and_ends() {
        let mut body = Guarded::new(Box::new(std::io::Cursor::new(vec![7u8; 200_000])));
        let (mut got, mut buf) = (0, [0u8; 50_000]);
        loop {
            match body.poll(&mut buf, Duration::from_secs(5)) {
                Poll::Data(0) => break,
                Poll::Data(n) => got += n,
                _ => panic!("not idle, not failed"),
            }
        }
        assert_eq!(got, 200_000);
    }
}
