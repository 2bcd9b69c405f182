//! `marquee-financial [healthcheck | migrate] [--no-migrate]`

use marquee_financial::{App, Config, Options, migrate};
use marquee_service::{Command, Started};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Started { config, command, telemetry: _telemetry } =
        marquee_service::start::<Config>("marquee-financial", &[])?;
    match command {
        Command::Migrate => migrate(&config).await,
        Command::Serve { skip_migrations } => {
            let drain = config.service.http.drain;
            let app = App::build(config, Options { skip_migrations, ..Options::default() }).await?;
            marquee_kit::server::cancel_on_signal(app.shutdown_token(), drain);
            app.run().await
        }
        Command::Own(other) => unreachable!("financial has no command {other}"),
    }
}
