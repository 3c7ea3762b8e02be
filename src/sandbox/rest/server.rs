//! Binding, serving behind the offline gate, and shutting down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::RestState;
use crate::sandbox::net::GatedListener;

/// A running REST sandbox server.
pub(crate) struct RestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    /// Background work (live traffic) stopped before the server.
    tasks: Vec<JoinHandle<()>>,
    state: Arc<RestState>,
}

impl RestServer {
    /// Binds `addr` (port 0 allowed) and serves `app` on the current tokio
    /// runtime; while the state says offline, API connections are cut.
    pub(crate) async fn start(
        addr: SocketAddr,
        app: Router,
        state: Arc<RestState>,
        label: &'static str,
    ) -> anyhow::Result<RestServer> {
        let offline = state.offline_flag();
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let listener = GatedListener::new(listener, offline);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!("{label} sandbox server stopped: {e}");
            }
        });
        tracing::info!("{label} sandbox listening on {addr}");
        Ok(RestServer {
            addr,
            stop: Some(stop_tx),
            server,
            tasks: Vec::new(),
            state,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` (127.0.0.1 when bound to the unspecified address).
    pub(crate) fn origin(&self) -> String {
        let ip = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match self.addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        format!("http://{ip}:{}", self.addr.port())
    }

    pub(crate) fn add_task(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    pub(crate) async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        // Hanging answers would hold graceful shutdown open.
        self.state.kit().stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Keep-alive connections could hold graceful shutdown open; cap the wait.
        let server = &mut self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut *server)
            .await
            .is_err()
        {
            server.abort();
        }
    }
}
