//! Small HTTP servers that misbehave on purpose (redirects elsewhere, endless or huge bodies,
//! answers that never come), for the hostile-server tests. Each listens on a free port of a
//! loopback address (127.0.0.1 or 127.0.0.2, never anything else), answers every request
//! with the test's handler on its own thread, and logs what it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The request as one text, to grep for planted credentials.
    pub fn text(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(key, value)| format!("{key}: {value}"))
            .collect();
        format!(
            "{} {}\n{}\n{}",
            self.method,
            self.path,
            headers.join("\n"),
            String::from_utf8_lossy(&self.body)
        )
    }
}

pub enum Reply {
    Json(u16, Value),
    /// `status` with `Location: location`.
    Redirect(u16, String),
    /// 200 with `Content-Length: length`, then spaces until the client hangs up.
    HugeLength(u64),
    /// 200, chunked, 64 KiB chunks of spaces until the client hangs up.
    Endless,
    /// Reads the request and never answers.
    Stall,
}

pub struct FakeServer {
    /// `http://IP:PORT`
    pub address: String,
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    /// Listens on `ip` (a loopback address) and answers with `handler`.
    pub fn start(
        ip: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        assert!(
            ip.starts_with("127."),
            "fake servers listen on loopback only"
        );
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let server_log = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let log = server_log.clone();
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        FakeServer {
            address: format!("http://{ip}:{port}"),
            port,
            log,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

/// One request per connection (`Connection: close`): simple, and clients reconnect.
fn serve(stream: TcpStream, handler: &dyn Fn(&Request) -> Reply, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    let mut stream = stream;
    let _ = match handler(&request) {
        Reply::Json(status, body) => {
            let body = body.to_string();
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Reply::Redirect(status, location) => write!(
            stream,
            "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Reply::HugeLength(length) => {
            let spaces = vec![b' '; 64 * 1024];
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            )
            .and_then(|_| loop {
                stream.write_all(&spaces)?;
            })
        }
        Reply::Endless => {
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(vec![b' '; 64 * 1024]);
            chunk.extend(b"\r\n");
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            .and_then(|_| loop {
                stream.write_all(&chunk)?;
            })
        }
        Reply::Stall => {
            // Until the client hangs up (or gives up and exits).
            let mut buffer = [0u8; 1024];
            while reader.read(&mut buffer).is_ok_and(|read| read > 0) {}
            Ok(())
        }
    };
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
