//! The live page's HTTP server: `tiny_http` on a thread of its own, bound only to the
//! address given, serving `/` (the page), `/api/job` (its JSON) and `/metrics`
//! (OpenMetrics); a second thread asks the workers for their figures a few times a second.

use std::sync::Arc;
use std::time::Duration;

use tiny_http::{Header, Response, Server};

use super::{LiveBoard, PUBLISH_EVERY_MS};
use crate::JobError;

/// Serves `board` at `addr` (`127.0.0.1:8080`; port 0 takes a free one) until the process
/// ends. Returns the address bound, which the job prints on stderr.
pub fn serve(board: Arc<LiveBoard>, addr: &str) -> Result<String, JobError> {
    let server = Server::http(addr).map_err(|e| {
        JobError::Config(format!(
            "--ui {addr}: cannot serve the live page there: {e}"
        ))
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .map_or_else(|| addr.to_string(), |a| a.to_string());
    let ticker = Arc::downgrade(&board);
    std::thread::Builder::new()
        .name("weir-ui-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(PUBLISH_EVERY_MS));
            match ticker.upgrade() {
                Some(board) => board.ask(),
                None => return,
            }
        })
        .map_err(|e| JobError::Config(format!("--ui: cannot start a thread: {e}")))?;
    std::thread::Builder::new()
        .name("weir-ui".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or("/").to_string();
                let response = match path.as_str() {
                    "/" | "/index.html" => text(super::page::PAGE, "text/html; charset=utf-8"),
                    "/api/job" => match serde_json::to_string(&board.view()) {
                        Ok(json) => text(&json, "application/json"),
                        Err(e) => text(&e.to_string(), "text/plain").with_status_code(500),
                    },
                    "/metrics" => text(
                        &board.metrics(),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                    _ => text("not found", "text/plain").with_status_code(404),
                };
                // A client that went away is no concern of the job's.
                let _ = request.respond(response);
            }
        })
        .map_err(|e| JobError::Config(format!("--ui: cannot start a thread: {e}")))?;
    Ok(bound)
}

fn text(body: &str, content_type: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut response = Response::from_string(body);
    if let Ok(header) = Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()) {
        response = response.with_header(header);
    }
    if let Ok(header) = Header::from_bytes(&b"Cache-Control"[..], &b"no-store"[..]) {
        response = response.with_header(header);
    }
    response
}
