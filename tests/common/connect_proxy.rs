//! An HTTPS proxy (`CONNECT host:port`) that sends every tunnel to 127.0.0.1 on the port asked
//! for, whatever the host: the way to give a loopback fake a DNS name (`v1.vault.test`) that a
//! client resolves through `HTTPS_PROXY`, with no DNS and no /etc/hosts. It logs each host.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct ConnectProxy {
    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY`.
    pub address: String,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let log = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || tunnel(client, &log));
            }
        });
        ConnectProxy {
            address: format!("http://127.0.0.1:{port}"),
            tunnels,
        }
    }

    /// The `host:port` of every tunnel asked for, in order.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The headers end with an empty line; a CONNECT has no body.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
        line.clear();
    }
    let mut words = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        return;
    };
    log.lock().unwrap().push(target.to_string());
    let Some(port) = target
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
    else {
        return;
    };
    let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let mut client = client;
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut from_client, mut to_server) = (reader, server.try_clone().expect("clone stream"));
    let (mut from_server, mut to_client) = (server, client);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_server, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Write);
}
