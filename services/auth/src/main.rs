//! `marquee-auth [healthcheck | migrate | rotate-keys] [--no-migrate]`

use marquee_auth::{App, Config, Options, migrate, rotate_keys};
use marquee_service::{Command, Started};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Started { config, command, telemetry: _telemetry } =
        marquee_service::start::<Config>("marquee-auth", &["rotate-keys"])?;
    match command {
        Command::Migrate => migrate(&config).await,
        Command::Own(_) => {
            let kid = rotate_keys(&config).await?;
            tracing::info!(%kid, "next signing key published; it signs once SIGNING_KEY_PUBLISH_LEAD_SECS have passed");
            Ok(())
        }
        Command::Serve { skip_migrations } => {
            let drain = config.service.http.drain;
            let app = App::build(config, Options { skip_migrations, ..Options::default() }).await?;
            marquee_kit::server::cancel_on_signal(app.shutdown_token(), drain);
            app.run().await
        }
    }
}
