//! `darkroom-server`: the Immich-compatible server (API and workers) and its admin tasks.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use darkroom_api::config::Config;
use darkroom_api::services::users::hash;
use darkroom_api::{logging, server};
use darkroom_storage::users::{self, UserChanges, UserFilter};

#[derive(Parser)]
#[command(name = "darkroom-server", version, about = "Immich-compatible photo server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Set a new password for the admin (prompts; empty input generates one).
    ResetAdminPassword,
    /// List all users, including deleted ones.
    ListUsers,
    /// Make a user an admin (prompts for the e-mail unless given).
    GrantAdmin { email: Option<String> },
    /// Take admin rights from a user (prompts for the e-mail unless given).
    RevokeAdmin { email: Option<String> },
    /// Exit 0 when this container's API answers its ping (the image's health check).
    Healthcheck,
    /// Replace the database with a backup in the media folder's `backups/` (a restore point is
    /// written first). Stop the server before and start it again after.
    RestoreDatabase { filename: String },
    /// Put the running server into maintenance mode (or stay in it) and print a sign-in link.
    EnableMaintenanceMode,
    /// Take the running server out of maintenance mode.
    DisableMaintenanceMode,
}

const BLOCKING_THREADS: usize = 6;

fn main() {
    let cli = Cli::parse();
    // File I/O and image work run on blocking threads. Each thread that frees large image
    // buffers keeps a glibc arena of them, so a small pool keeps the resident size small; a
    // few threads are plenty for a home server's disk.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(cli.command.unwrap_or(Command::Serve))),
        Err(error) => Err(error.into()),
    };
    if let Err(error) = result {
        eprintln!("darkroom-server: {error:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command) -> Result<()> {
    let config = Config::from_env()?;
    logging::init(config.log_level, config.log_format);
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let database = server::connect(&config).await?;
            database.prepare(config.database.vector_extension).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::ResetAdminPassword => reset_admin_password(&config).await,
        Command::ListUsers => {
            let database = server::connect(&config).await?;
            let mut all = users::find(
                database.pool(),
                UserFilter {
                    with_deleted: true,
                    ..Default::default()
                },
            )
            .await?;
            all.reverse();
            let dtos = darkroom_api::services::users::admin_dtos(database.pool(), &all)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for dto in &dtos {
                println!("{}", serde_json::to_string_pretty(dto)?);
            }
            Ok(())
        }
        Command::GrantAdmin { email } => set_admin(&config, email, true).await,
        Command::RevokeAdmin { email } => set_admin(&config, email, false).await,
        Command::Healthcheck => healthcheck(&config).await,
        Command::RestoreDatabase { filename } => {
            let state = server::prepare(config).await?;
            darkroom_api::services::database_backups::restore(&state, &filename, &|_, _| {})
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("Database restored from {filename}.");
            Ok(())
        }
        Command::EnableMaintenanceMode => {
            let state = server::prepare(config).await?;
            let (url, already) = darkroom_api::maintenance::enable_from_command_line(&state)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!(
                "{}\n\nSign in to it at:\n{url}",
                if already {
                    "The server was in maintenance mode already."
                } else {
                    "The server is now in maintenance mode."
                }
            );
            Ok(())
        }
        Command::DisableMaintenanceMode => {
            let state = server::prepare(config).await?;
            let already = darkroom_api::maintenance::disable_from_command_line(&state)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!(
                "{}",
                if already {
                    "The server was not in maintenance mode."
                } else {
                    "The server has left maintenance mode."
                }
            );
            Ok(())
        }
    }
}

/// Asks the API on this host for `/api/server/ping`, as Immich's image does; a workers-only
/// process has no API and is healthy while it runs.
async fn healthcheck(config: &Config) -> Result<()> {
    if !config.workers_api {
        println!("API worker excluded, skipping");
        return Ok(());
    }
    let host = match config.host {
        Some(host) if !host.is_unspecified() => host,
        _ => std::net::Ipv4Addr::LOCALHOST.into(),
    };
    let url = format!(
        "http://{}/api/server/ping",
        std::net::SocketAddr::new(host, config.port)
    );
    let answer = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .with_context(|| format!("asking {url}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.with_context(|| format!("reading {url}"))?;
    if !status.is_success() || body != serde_json::json!({"res": "pong"}) {
        bail!("{url} answered {status} {body}");
    }
    Ok(())
}

async fn serve(config: Config) -> Result<()> {
    if !config.workers_api {
        if !config.workers_microservices {
            anyhow::bail!("IMMICH_WORKERS_INCLUDE/EXCLUDE leave neither the API nor the microservices worker");
        }
        // A workers-only process: no HTTP, just the job queues.
        let state = server::prepare(config).await?;
        tracing::info!("running the job workers only (IMMICH_WORKERS_INCLUDE/EXCLUDE)");
        tokio::select! {
            () = server::run_workers_only(state) => {}
            () = server::shutdown_signal() => {}
        }
        return Ok(());
    }
    let listener = server::bind(&config).await?;
    let address = listener.local_addr()?;
    let state = server::prepare(config).await?;
    tracing::info!("Immich-compatible API listening on http://{address}");
    server::serve(state, listener, server::shutdown_signal())
        .await
        .context("server failed")
}

fn prompt(question: &str) -> Result<String> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn reset_admin_password(config: &Config) -> Result<()> {
    let database = server::connect(config).await?;
    let Some(admin) = users::get_admin(database.pool()).await? else {
        bail!("Admin account does not exist")
    };
    println!(
        "Found Admin:\n- ID={}\n- OAuth ID={}\n- Email={}\n- Name={}",
        admin.id, admin.oauth_id, admin.email, admin.name
    );
    let chosen = prompt("Please choose a new password (optional): ")?;
    let password = if chosen.is_empty() {
        darkroom_api::auth::tokens::generate()
    } else {
        chosen.clone()
    };
    let password_hash = hash(&password).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    users::update(
        database.pool(),
        admin.id,
        &UserChanges {
            password_hash: Some(password_hash),
            ..Default::default()
        },
    )
    .await?;
    if chosen.is_empty() {
        println!("The admin password has been updated to:\n{password}");
    } else {
        println!("The admin password has been updated.");
    }
    Ok(())
}

async fn set_admin(config: &Config, email: Option<String>, is_admin: bool) -> Result<()> {
    let email = match email {
        Some(email) => email,
        None => prompt("Please enter the user email: ")?,
    };
    let database = server::connect(config).await?;
    let Some(user) = users::get_by_email(database.pool(), &email, false).await? else {
        bail!("User does not exist")
    };
    users::update(
        database.pool(),
        user.id,
        &UserChanges {
            is_admin: Some(is_admin),
            ..Default::default()
        },
    )
    .await?;
    if is_admin {
        println!("Admin access has been granted to {email}");
    } else {
        println!("Admin access has been revoked from {email}");
    }
    Ok(())
}
