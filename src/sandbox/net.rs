//! The listener behind the sandbox: lets tests take the API off the network
//! and back without giving up the port.
//!
//! Going offline cannot be done with HTTP answers (any answer is an answer),
//! nor by closing the listening socket (another process could take the port).
//! Instead every connection is wrapped so that, while offline, reading or
//! writing fails and hyper drops it unanswered. Connections whose first bytes
//! are a request to `/__sandbox/` are exempt, so an end-to-end test in
//! another process can still bring the sandbox back.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

const CONTROL_PREFIXES: [&[u8]; 2] = [b"POST /__sandbox/", b"GET /__sandbox/"];

/// Wraps a listener; while `offline` holds, API connections are cut.
pub(crate) struct GatedListener {
    inner: TcpListener,
    offline: Arc<AtomicBool>,
}

impl GatedListener {
    pub(crate) fn new(inner: TcpListener, offline: Arc<AtomicBool>) -> Self {
        Self { inner, offline }
    }
}

impl axum::serve::Listener for GatedListener {
    type Io = GatedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (GatedIo, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = GatedIo {
                        inner: stream,
                        offline: self.offline.clone(),
                        kind: Kind::Unknown,
                    };
                    return (io, addr);
                }
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::debug!("sandbox accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nothing read yet.
    Unknown,
    Control,
    Api,
}

pub(crate) struct GatedIo {
    inner: TcpStream,
    offline: Arc<AtomicBool>,
    kind: Kind,
}

impl GatedIo {
    fn cut(&self) -> bool {
        self.kind != Kind::Control && self.offline.load(Ordering::SeqCst)
    }
}

fn offline() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "sandbox is offline")
}

impl AsyncRead for GatedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.kind == Kind::Api && this.cut() {
            return Poll::Ready(Err(offline()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if this.kind == Kind::Unknown {
            let fresh = &buf.filled()[before..];
            if fresh.is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.kind = if CONTROL_PREFIXES.iter().any(|p| fresh.starts_with(p)) {
                Kind::Control
            } else {
                Kind::Api
            };
            if this.cut() {
                buf.set_filled(before);
                return Poll::Ready(Err(offline()));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for GatedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.cut() {
            return Poll::Ready(Err(offline()));
        }
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.cut() {
            return Poll::Ready(Err(offline()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.cut() {
            return Poll::Ready(Err(offline()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
