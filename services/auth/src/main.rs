//! `marquee-auth [healthcheck | migrate | rotate-keys] [--no-migrate]`

use marquee_auth::{App, Config, Options, migrate, rotate_keys};

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("marquee-auth: {e}");
            std::process::exit(2);
        }
    };
    if args.first().map(String::as_str) == Some("healthcheck") {
        return Ok(marquee_kit::server::healthcheck(&config.http_addr));
    }
    let _telemetry = marquee_telemetry::init("marquee-auth", &config.telemetry)?;
    match args.first().map(String::as_str) {
        Some("migrate") => {
            migrate(&config).await?;
            tracing::info!("migrations applied");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Some("rotate-keys") => {
            let kid = rotate_keys(&config).await?;
            tracing::info!(%kid, "next signing key published; it signs once SIGNING_KEY_PUBLISH_LEAD_SECS have passed");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        _ => {}
    }
    if let Some(unknown) = args.iter().find(|a| *a != "--no-migrate") {
        eprintln!(
            "marquee-auth: unknown argument {unknown:?} (expected `healthcheck`, `migrate`, `rotate-keys` or `--no-migrate`)"
        );
        std::process::exit(2);
    }
    let options = Options { skip_migrations: args.iter().any(|a| a == "--no-migrate"), ..Options::default() };
    let drain = config.http.drain;
    let app = App::build(config, options).await?;
    marquee_kit::server::cancel_on_signal(app.shutdown_token(), drain);
    app.run().await?;
    Ok(std::process::ExitCode::SUCCESS)
}
