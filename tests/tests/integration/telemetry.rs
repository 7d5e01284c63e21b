//! Metrics as an operator meets them: Immich's telemetry switches and ports, scraped by a real
//! Prometheus (Debian's package), which then answers every query of our Grafana dashboard and
//! loads our alert rules.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use darkroom_tests::{TestServer, fixtures};
use reqwest::Method;
use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

async fn scrape(port: u16) -> (String, String) {
    let answer = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(answer.status(), 200);
    let kind = answer.headers()["content-type"].to_str().unwrap().to_owned();
    (kind, answer.text().await.unwrap())
}

/// The value of the first sample whose line starts with `series` (name and labels as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// Every PromQL expression of the dashboard (`panels[].targets[].expr`, rows included).
fn dashboard_queries(dashboard: &Value, into: &mut Vec<String>) {
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                into.push(expr.to_owned());
            }
        }
        dashboard_queries(panel, into);
    }
}

struct Prometheus {
    child: tokio::process::Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Prometheus {
    async fn start(targets: &[(&str, u16)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let rules = repository().join("deploy/prometheus/alerts.yml");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [{rules:?}]\nscrape_configs:\n"
        );
        for (job, port) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            ));
        }
        let config_path = data.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let child = tokio::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", data.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("Debian's prometheus package (./scripts/setup installs it)");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _data: data,
        }
    }

    /// The answer to an instant query; panics on a query Prometheus refuses.
    async fn query(&self, expr: &str) -> Value {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
        answer["data"]["result"].clone()
    }

    /// Waits (up to a minute) until `expr` has a result.
    async fn until(&mut self, expr: &str) -> Value {
        for _ in 0..240 {
            if let Ok(answer) = reqwest::get(format!("{}/-/ready", self.url)).await
                && answer.status().is_success()
            {
                let result = self.query(expr).await;
                if result.as_array().is_some_and(|r| !r.is_empty()) {
                    return result;
                }
            }
            assert!(self.child.try_wait().unwrap().is_none(), "prometheus exited");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("{expr} never had a result");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_api_and_the_workers_and_answers_the_dashboard() {
    let (api_port, workers_port) = (free_port(), free_port());
    let server = TestServer::start_with(&[
        ("IMMICH_TELEMETRY_INCLUDE", "all"),
        ("IMMICH_API_METRICS_PORT", &api_port.to_string()),
        ("IMMICH_MICROSERVICES_METRICS_PORT", &workers_port.to_string()),
    ])
    .await;
    let admin = server.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    fixtures::jpeg_with_exif(&photo, 7);
    let bytes = std::fs::read(&photo).unwrap();
    let uploaded = server.upload(&admin, "photo.jpg", &bytes, &[]).await;
    let id = uploaded.body["id"].as_str().unwrap().to_owned();
    server.wait_until_processed(&admin, &id).await;
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await;
    assert_eq!(asset.status, 200);

    let (kind, api) = scrape(api_port).await;
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let route = r#"http_server_duration_count{http_method="GET",http_route="/api/assets/{id}",http_status_code="200"}"#;
    assert!(
        sample(&api, route).unwrap_or(0.0) >= 1.0,
        "requests by their route template:\n{api}"
    );
    assert_eq!(sample(&api, "darkroom_upload_bytes_total"), Some(bytes.len() as f64));
    assert_eq!(sample(&api, "immich_users_total"), Some(1.0));
    assert!(sample(&api, "darkroom_db_pool_max_connections").unwrap() > 0.0);
    assert!(sample(&api, "darkroom_media_disk_size_bytes").unwrap() > 0.0);
    assert_eq!(sample(&api, "darkroom_library_assets"), Some(1.0));
    assert!(sample(&api, "process_memory_usage").unwrap() > 1e6);
    assert!(
        !api.contains("darkroom_job_duration_seconds"),
        "jobs are the workers' port's"
    );

    let (_, workers) = scrape(workers_port).await;
    assert_eq!(
        sample(&workers, "immich_jobs_asset_extract_metadata_success_total"),
        Some(1.0)
    );
    let thumbnails = r#"darkroom_job_duration_seconds_count{queue="thumbnailGeneration",status="success"}"#;
    assert!(sample(&workers, thumbnails).unwrap() >= 1.0, "{workers}");
    let waiting = r#"darkroom_queue_jobs{queue="thumbnailGeneration",state="waiting"}"#;
    assert_eq!(sample(&workers, waiting), Some(0.0));
    assert!(sample(&workers, "darkroom_database_backup_last_success_timestamp_seconds").is_some());
    assert!(
        !workers.contains("process_memory_usage"),
        "process-wide metrics are exported once"
    );

    // Only /metrics answers.
    let other = reqwest::get(format!("http://127.0.0.1:{api_port}/")).await.unwrap();
    assert_eq!(other.status(), 404);

    let mut prometheus = Prometheus::start(&[("darkroom-api", api_port), ("darkroom-workers", workers_port)]).await;
    prometheus.until(r#"up{job="darkroom-workers"} == 1"#).await;
    prometheus.until(r#"up{job="darkroom-api"} == 1"#).await;
    let uploaded = prometheus.until("sum(darkroom_upload_bytes_total)").await;
    assert_eq!(uploaded[0]["value"][1], bytes.len().to_string());

    let dashboard: Value =
        serde_json::from_slice(&std::fs::read(repository().join("deploy/grafana/darkroom.json")).unwrap()).unwrap();
    let mut queries = Vec::new();
    dashboard_queries(&dashboard, &mut queries);
    assert!(queries.len() >= 10, "the dashboard's queries: {queries:?}");
    for expr in &queries {
        prometheus.query(expr).await;
    }

    // The alert rules load, and evaluate without error against these series.
    let mut evaluated = false;
    for _ in 0..80 {
        let rules: Value = reqwest::get(format!("{}/api/v1/rules", prometheus.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let loaded: Vec<&Value> = rules["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|group| group["rules"].as_array().unwrap())
            .collect();
        assert!(loaded.len() >= 6, "{rules}");
        for rule in &loaded {
            assert_ne!(rule["health"], "err", "{rule}");
        }
        if loaded.iter().all(|rule| rule["health"] == "ok") {
            evaluated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(evaluated, "the alert rules were evaluated");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_listens_unless_telemetry_is_included() {
    let port = free_port();
    let _server = TestServer::start_with(&[("IMMICH_API_METRICS_PORT", &port.to_string())]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.is_err());
    let refused = TestServer::try_start_with(&[("IMMICH_TELEMETRY_INCLUDE", "api,nonsense")]).await;
    let error = refused.err().expect("an unknown telemetry group stops the start");
    assert!(error.contains("Invalid telemetry found: nonsense"), "{error}");
}
