//! `marquee-financial [healthcheck | migrate] [--no-migrate]`

use marquee_financial::{App, Config, Options, migrate};

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("marquee-financial: {e}");
            std::process::exit(2);
        }
    };
    if args.first().map(String::as_str) == Some("healthcheck") {
        return Ok(marquee_kit::server::healthcheck(&config.http_addr));
    }
    let _telemetry = marquee_telemetry::init("marquee-financial", &config.telemetry)?;
    if args.iter().any(|a| a == "migrate") {
        migrate(&config).await?;
        tracing::info!("migrations applied");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Some(unknown) = args.iter().find(|a| *a != "--no-migrate") {
        eprintln!(
            "marquee-financial: unknown argument {unknown:?} (expected `healthcheck`, `migrate` or `--no-migrate`)"
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
