//! A minimal HTTP/1.1 client over real TCP for the node API's tests: one request per
//! connection, and an event stream read line by line. Every wait has a deadline.

use std::net::SocketAddr;

use solana_program_test::tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    time::timeout,
};

use crate::running::DEADLINE;

/// A node's API at `address`, called with `token` (None: no Authorization header).
#[derive(Clone, Debug)]
pub struct Api {
    pub address: SocketAddr,
    pub token: Option<String>,
}

/// A status and the JSON body (Null if the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    /// The one-line error of a refused request.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl Api {
    fn head(&self, method: &str, path: &str, length: usize) -> String {
        let auth = self
            .token
            .as_ref()
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
            self.address
        )
    }

    pub async fn request(&self, method: &str, path: &str, body: &str) -> Answer {
        timeout(DEADLINE, async {
            let mut stream = TcpStream::connect(self.address).await.expect("connect");
            let request = self.head(method, path, body.len()) + body;
            stream.write_all(request.as_bytes()).await.expect("send");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.expect("read");
            parse(&raw)
        })
        .await
        .expect("the API answers in time")
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, "").await
    }

    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.request("POST", path, body).await
    }

    /// Opens `GET /v1/events`; read it with [`Events::next`].
    pub async fn events(&self) -> Events {
        let mut stream = TcpStream::connect(self.address).await.expect("connect");
        let request = self.head("GET", "/v1/events", 0);
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut lines = BufReader::new(stream);
        let mut status = String::new();
        lines.read_line(&mut status).await.expect("status line");
        assert!(status.contains(" 200 "), "the event stream opens: {status}");
        Events { lines }
    }
}

fn parse(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Answer {
        status,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// An open event stream.
pub struct Events {
    lines: BufReader<TcpStream>,
}

impl Events {
    /// The next event's JSON.
    pub async fn next(&mut self) -> serde_json::Value {
        timeout(DEADLINE, async {
            loop {
                let mut line = String::new();
                let read = self.lines.read_line(&mut line).await.expect("the stream");
                assert!(read > 0, "the event stream ended");
                if let Some(data) = line.trim_end().strip_prefix("data: ") {
                    return serde_json::from_str(data).expect("an event is JSON");
                }
            }
        })
        .await
        .expect("an event arrives in time")
    }
}
