//! The server that `tests/tests/it/durability.rs` kills: it serves the SQLite file at the
//! path given on a free loopback port, which it prints as `port <n>`, with the test
//! accounts' quick password hashing. Bounded: it stops by itself after 120 s.
//!
//! ```sh
//! fieldcase-test-server PATH
//! ```

use std::sync::Arc;
use std::time::Duration;

use fieldcase_server::{AppState, Config, Db, SqliteDb};
use fieldcase_tests::ITERATIONS;

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: fieldcase-test-server PATH");
        std::process::exit(2);
    };
    let db = match SqliteDb::open(std::path::Path::new(&path)) {
        Ok(db) => Arc::new(db),
        Err(e) => {
            eprintln!("cannot open the database: {e}");
            std::process::exit(1);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        println!("port {}", listener.local_addr().expect("bound").port());
        let state = AppState::new(
            db as Arc<dyn Db>,
            Config {
                password_iterations: ITERATIONS,
                ..Config::default()
            },
        );
        let serve = fieldcase_server::serve(listener, state, std::future::pending());
        let _ = tokio::time::timeout(Duration::from_secs(120), serve).await;
    });
}
