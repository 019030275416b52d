//! A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending the next
//! request as soon as the previous answer arrives; latencies recorded per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to repeat.
#[derive(Clone)]
pub struct Request {
    method: hyper::Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Request {
    pub fn get(path: &str) -> Self {
        Self {
            method: hyper::Method::GET,
            path: path.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn post_json(path: &str, body: &str) -> Self {
        Self {
            method: hyper::Method::POST,
            path: path.to_string(),
            headers: vec![("content-type", "application/json".into())],
            body: Bytes::from(body.to_string()),
        }
    }

    pub fn post_csv(path: &str, body: Vec<u8>) -> Self {
        Self {
            method: hyper::Method::POST,
            path: path.to_string(),
            headers: vec![("content-type", "text/csv".into())],
            body: Bytes::from(body),
        }
    }

    /// A POST of `body` as `content_type`.
    pub fn post_body(path: &str, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            method: hyper::Method::POST,
            path: path.to_string(),
            headers: vec![("content-type", content_type.to_string())],
            body: Bytes::from(body),
        }
    }

    /// The same request with another method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = hyper::Method::from_bytes(method.as_bytes()).unwrap_or(hyper::Method::POST);
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.headers
            .push(("authorization", format!("Bearer {token}")));
        self
    }

    fn build(&self, addr: SocketAddr) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        let mut b = hyper::Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header("host", addr.to_string());
        for (k, v) in &self.headers {
            b = b.header(*k, v);
        }
        Ok(b.body(Full::new(self.body.clone()))?)
    }
}

async fn connect(addr: SocketAddr) -> anyhow::Result<http1::SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Sends one request on a new connection: (status, body).
pub async fn send_once(addr: SocketAddr, req: &Request) -> anyhow::Result<(u16, Bytes)> {
    let mut sender = connect(addr).await?;
    let res = sender.send_request(req.build(addr)?).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Sends `req` on a new connection and returns its status and its body as it arrives
/// (for an event stream).
pub async fn open_stream(
    addr: SocketAddr,
    req: &Request,
) -> anyhow::Result<(u16, hyper::body::Incoming)> {
    let mut sender = connect(addr).await?;
    let res = sender.send_request(req.build(addr)?).await?;
    Ok((res.status().as_u16(), res.into_body()))
}

/// What a load run measured.
pub struct Stats {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Sorted latencies in microseconds.
    latencies: Vec<u32>,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }

    pub fn p50_ms(&self) -> f64 {
        self.percentile_ms(0.5)
    }

    pub fn p99_ms(&self) -> f64 {
        self.percentile_ms(0.99)
    }

    /// The runs of `parts` (back to back) as one.
    pub fn merged(parts: Vec<Stats>) -> Stats {
        let mut out = Stats {
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
        };
        for p in parts {
            out.ok += p.ok;
            out.errors += p.errors;
            out.elapsed += p.elapsed;
            out.latencies.extend(p.latencies);
        }
        out.latencies.sort_unstable();
        out
    }

    pub fn summary(&self) -> String {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} ok, {} errors)",
            self.rate(),
            self.percentile_ms(0.5),
            self.p99_ms(),
            self.percentile_ms(1.0),
            self.ok,
            self.errors
        )
    }
}

/// Runs `conns` connections repeating `req` for `duration`.
pub async fn run_load(
    addr: SocketAddr,
    req: &Request,
    conns: usize,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let req = req.clone();
    run_load_with(addr, conns, duration, Arc::new(move |_, _| req.clone())).await
}

/// Makes the `i`-th request of connection `conn`.
pub type MakeRequest = Arc<dyn Fn(usize, u64) -> Request + Send + Sync>;

/// Runs `conns` connections for `duration`, each sending the requests `make` gives it.
pub async fn run_load_with(
    addr: SocketAddr,
    conns: usize,
    duration: Duration,
    make: MakeRequest,
) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(conns);
    for conn in 0..conns {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut sender = connect(addr).await?;
            let mut i = 0u64;
            while Instant::now() < deadline {
                let r = make(conn, i).build(addr)?;
                i += 1;
                let t = Instant::now();
                match sender.send_request(r).await {
                    Ok(res) => {
                        let ok = res.status().is_success();
                        res.into_body().collect().await?;
                        if ok {
                            lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        sender = connect(addr).await?;
                    }
                }
            }
            anyhow::Ok((lat, errors))
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await??;
        latencies.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(Stats {
        ok: latencies.len() as u64,
        errors,
        elapsed,
        latencies,
    })
}
