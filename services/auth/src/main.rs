//! `marquee-auth [healthcheck | migrate | rotate-keys] [--no-migrate]`

use marquee_auth::{App, Config, rotate_keys};
use marquee_service::{Command, Started};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Started { config, command, telemetry: _telemetry } =
        marquee_service::start::<Config>("marquee-auth", &["rotate-keys"])?;
    match command {
        Command::Own(_) => {
            let kid = rotate_keys(&config).await?;
            tracing::info!(%kid, "next signing key published; it signs once SIGNING_KEY_PUBLISH_LEAD_SECS have passed");
            Ok(())
        }
        other => marquee_service::run::<App>(config, other).await,
    }
}
