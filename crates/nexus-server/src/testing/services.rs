//! Real servers the tests talk to, from PyPI packages that `.ci/run` installs (moto's S3,
//! aiosmtpd's SMTP): child processes on free ports, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nexus_core::Config;

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A Python server run as `python3 -m ...`, killed when dropped.
pub struct PyServer {
    child: Child,
}

impl PyServer {
    /// Starts `python3 -m args` with `env` once `module` imports (else fails telling to
    /// `install`), and waits until it listens on `port`.
    pub fn start(
        module: &str,
        install: &str,
        args: &[&str],
        env: &[(&str, &str)],
        port: u16,
    ) -> Self {
        let found = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "{module} is missing: {install} (`.ci/run` installs it)"
        );
        let child = Command::new("python3")
            .arg("-m")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting python3 -m {}: {e}", args.join(" ")));
        let server = Self { child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{module} never listened on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A moto S3 server for one test.
pub struct Moto {
    _server: PyServer,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Started with these environment variables (moto's own settings).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let server = PyServer::start(
            "moto.server, flask",
            "python3 -m pip install 'moto[server]'",
            &["moto.server", "-H", "127.0.0.1", "-p", &port.to_string()],
            env,
            port,
        );
        Self {
            _server: server,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new, empty bucket.
    pub async fn bucket(&self, name: &str) {
        let res = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(res.status().is_success(), "{res:?}");
    }

    /// The object keys under `bucket/prefix`.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint);
        let xml = reqwest::get(url).await.unwrap().text().await.unwrap();
        xml.split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap().to_string())
            .collect()
    }

    /// Settings of a test server keeping its blobs in `bucket/prefix` here.
    pub fn configure(&self, config: &mut Config, bucket: &str, prefix: &str) {
        config.files_url = Some(format!("s3://{bucket}/{prefix}"));
        config.files_options = [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "nexus-test"),
            ("aws_secret_access_key", "nexus-test-secret"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec();
    }

    /// The environment of a `nexus` process keeping its blobs in `url` here.
    pub fn env<'a>(&'a self, url: &'a str) -> [(&'a str, &'a str); 5] {
        [
            ("NEXUS_FILES_URL", url),
            ("AWS_ENDPOINT_URL", &self.endpoint),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "nexus-test"),
            ("AWS_SECRET_ACCESS_KEY", "nexus-test-secret"),
        ]
    }
}
