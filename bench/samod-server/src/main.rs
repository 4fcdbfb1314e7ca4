//! A samod sync server as its documentation builds one: a `Repo` on filesystem storage
//! (the NodeFS layout), an axum WebSocket route handing each socket to an acceptor, bound
//! to 127.0.0.1. Usage: fieldcase-bench-samod PORT STORAGE_DIR

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

async fn sync(State(acceptor): State<samod::AcceptorHandle>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| async move {
            let _ = acceptor.accept_axum(socket, None);
        })
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).expect("PORT");
    let dir = args.next().expect("STORAGE_DIR");
    let repo = samod::Repo::build_tokio()
        .with_storage(samod::storage::TokioFilesystemStorage::new(dir))
        // Serve what is asked for; do not announce documents to every peer (as the JS server).
        .with_share_policy(samod::ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let url = samod::Url::parse(&format!("ws://127.0.0.1:{port}")).expect("url");
    let acceptor = repo.make_acceptor(url).expect("acceptor");
    let app = Router::new().route("/", get(sync)).with_state(acceptor);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("signal");
            term.recv().await;
        })
        .await
        .expect("serve");
    repo.stop().await;
}
