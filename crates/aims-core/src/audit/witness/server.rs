//! The witness's HTTP front (`tiny_http`): `POST <prefix>/add-checkpoint` handed to
//! [`Witness::add_checkpoint`], everything else 404 or 405, bodies read up to a bound.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tiny_http::{Header, Method, Response, Server};

use super::service::{Answer, Witness, MAX_REQUEST_BYTES};

/// How many requests are served at once; the witness's state lock orders them anyway.
const WORKERS: usize = 4;

/// A running witness server. Dropping it stops it.
pub struct WitnessServer {
    server: Arc<Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {listen}: {reason}")]
pub struct ListenError {
    listen: String,
    reason: String,
}

impl std::fmt::Debug for WitnessServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl WitnessServer {
    /// Serves `witness` on `listen` (e.g. `127.0.0.1:7380`; port 0 picks one) under the URL
    /// `prefix` (empty, or starting with `/`).
    pub fn start(witness: Arc<Witness>, listen: &str, prefix: &str) -> Result<Self, ListenError> {
        let failed = |reason: String| ListenError {
            listen: listen.to_string(),
            reason,
        };
        let server = Arc::new(Server::http(listen).map_err(|err| failed(err.to_string()))?);
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| failed("not an IP address".into()))?;
        let path = format!("{}/add-checkpoint", prefix.trim_end_matches('/'));
        let workers = (0..WORKERS)
            .map(|_| {
                let server = Arc::clone(&server);
                let witness = Arc::clone(&witness);
                let path = path.clone();
                std::thread::spawn(move || {
                    // `recv` fails once the server is unblocked (stopped).
                    while let Ok(request) = server.recv() {
                        serve(&witness, &path, request);
                    }
                })
            })
            .collect();
        Ok(Self {
            server,
            addr,
            workers,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The submission prefix URL clients use, e.g. `http://127.0.0.1:7380`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        for worker in std::mem::take(&mut self.workers) {
            let _ = worker.join();
        }
    }
}

impl Drop for WitnessServer {
    fn drop(&mut self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in std::mem::take(&mut self.workers) {
            let _ = worker.join();
        }
    }
}

fn serve(witness: &Witness, path: &str, mut request: tiny_http::Request) {
    let answer = if request.url() != path {
        Answer {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: "not found\n".into(),
        }
    } else if *request.method() != Method::Post {
        Answer {
            status: 405,
            content_type: "text/plain; charset=utf-8",
            body: "use POST\n".into(),
        }
    } else {
        let mut body = Vec::new();
        let read = request
            .as_reader()
            .take(MAX_REQUEST_BYTES as u64 + 1)
            .read_to_end(&mut body);
        match read {
            Ok(_) => witness.add_checkpoint(&body),
            Err(err) => Answer {
                status: 400,
                content_type: "text/plain; charset=utf-8",
                body: format!("cannot read the request body: {err}\n"),
            },
        }
    };
    let mut response = Response::from_string(answer.body).with_status_code(answer.status);
    if let Ok(header) = Header::from_bytes("Content-Type", answer.content_type) {
        response = response.with_header(header);
    }
    // The client went away: nothing to tell it.
    let _ = request.respond(response);
}
