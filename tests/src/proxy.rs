//! A TCP proxy for fault tests: it forwards connections to a server and cuts each one
//! after a set number of bytes in one direction (mid-message, wherever that falls), or
//! holds the server's answers until told to let them through.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Which way the bytes are counted before the cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client to the server.
    Up,
    /// From the server to the client.
    Down,
}

/// A running proxy on 127.0.0.1; it stops accepting when dropped.
#[derive(Debug)]
pub struct CutProxy {
    pub addr: SocketAddr,
    cut: Arc<(AtomicUsize, AtomicUsize)>,
    cuts_made: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    hold: Arc<AtomicBool>,
}

impl CutProxy {
    /// Starts a proxy to `target`. Until [`CutProxy::cut_after`] is called it forwards
    /// everything.
    pub fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let cut = Arc::new((AtomicUsize::new(usize::MAX), AtomicUsize::new(usize::MAX)));
        let cuts_made = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let hold = Arc::new(AtomicBool::new(false));
        let (c, m, s, h) = (cut.clone(), cuts_made.clone(), stop.clone(), hold.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(target) else {
                            continue;
                        };
                        let up = c.0.load(Ordering::Relaxed);
                        let down = c.1.load(Ordering::Relaxed);
                        pipe(&client, &server, up, m.clone(), None);
                        pipe(&server, &client, down, m.clone(), Some(h.clone()));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        CutProxy {
            addr,
            cut,
            cuts_made,
            stop,
            hold,
        }
    }

    /// While `true`, what the server sends waits in the proxy (nothing is lost: it goes
    /// on when this is set back to `false`).
    pub fn hold_answers(&self, hold: bool) {
        self.hold.store(hold, Ordering::SeqCst);
    }

    /// The proxy's address as an `http://` URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, each new connection is cut after `bytes` in `direction`.
    pub fn cut_after(&self, direction: Direction, bytes: usize) {
        let (up, down) = match direction {
            Direction::Up => (bytes, usize::MAX),
            Direction::Down => (usize::MAX, bytes),
        };
        self.cut.0.store(up, Ordering::Relaxed);
        self.cut.1.store(down, Ordering::Relaxed);
    }

    /// How many connections were cut so far.
    pub fn cuts_made(&self) -> usize {
        self.cuts_made.load(Ordering::Relaxed)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` to `to` until either closes, or until `limit` bytes have passed: then
/// the part of the last read that fits is written and both connections are shut. While
/// `hold` is set, what was read waits before it is written.
fn pipe(
    from: &TcpStream,
    to: &TcpStream,
    limit: usize,
    cuts: Arc<AtomicUsize>,
    hold: Option<Arc<AtomicBool>>,
) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut passed = 0usize;
        let mut buf = [0u8; 4096];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            while hold.as_ref().is_some_and(|h| h.load(Ordering::SeqCst)) {
                std::thread::sleep(Duration::from_millis(2));
            }
            let room = limit.saturating_sub(passed);
            if n > room {
                let _ = to.write_all(&buf[..room]);
                cuts.fetch_add(1, Ordering::Relaxed);
                break;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            passed += n;
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
