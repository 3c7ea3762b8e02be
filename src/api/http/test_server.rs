//! A local HTTP server for unit tests of the clients: its own thread and
//! runtime, so it keeps answering whatever the test's runtime does.

use std::net::SocketAddr;

/// Serves `app` on a free local port until the test process ends.
pub(crate) fn serve_in_background(app: axum::Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free local port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
            axum::serve(listener, app).await.expect("serves");
        });
    });
    addr
}
