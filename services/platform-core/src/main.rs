//! `marquee-platform-core [healthcheck | migrate] [--no-migrate]`

use marquee_platform_core::{App, Config};
use marquee_service::Started;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Started { config, command, telemetry: _telemetry } =
        marquee_service::start::<Config>("marquee-platform-core", &[])?;
    marquee_service::run::<App>(config, command).await
}
