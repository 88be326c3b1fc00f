//! A Postgres cluster and a NATS server of a test's own, on spare ports, for tests that
//! hold the cluster-wide snapshot back or restart the services. Never the shared ones.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// These tests share one machine's CPU and stop and start servers: one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct PrivateServices {
    dir: PathBuf,
    pub pg_port: u16,
    pub nats_port: u16,
    nats: Option<Child>,
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// As the `postgres` user when we are root (initdb refuses root).
fn as_postgres(program: &str) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if is_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        Command::new(program)
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl PrivateServices {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "docuvault-cluster-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        run(Command::new("chown").args(["postgres:postgres"]).arg(&dir));
        let (pg_port, nats_port) = (spare_port(), spare_port());
        run(as_postgres(&format!("{PG_BIN}/initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(dir.join("pg")));
        let mut services = Self {
            dir,
            pg_port,
            nats_port,
            nats: None,
        };
        services.pg_ctl(&["start"]);
        services.start_nats();
        services
    }

    pub fn pg_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.pg_port)
    }

    pub fn nats_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.nats_port)
    }

    fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.pg_port,
            self.dir.display()
        );
        run(as_postgres(&format!("{PG_BIN}/pg_ctl"))
            .args(action)
            .args(["-w", "-m", "fast", "-o", &options, "-l"])
            .arg(self.dir.join("pg.log"))
            .arg("-D")
            .arg(self.dir.join("pg")));
    }

    fn start_nats(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.nats_port.to_string(),
                "-sd",
            ])
            .arg(self.dir.join("nats"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.nats = Some(child);
        wait_for_port(self.nats_port);
    }

    /// Kills NATS (as a crash would) and starts it again on the same store.
    pub fn restart_nats(&mut self) {
        if let Some(mut child) = self.nats.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.start_nats();
    }

    pub fn restart_postgres(&self) {
        self.pg_ctl(&["restart"]);
    }
}

impl Drop for PrivateServices {
    fn drop(&mut self) {
        if let Some(mut child) = self.nats.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = as_postgres(&format!("{PG_BIN}/pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir.join("pg"))
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
