use quire_client::Store;

use crate::cli::ConfigCommand;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(command: ConfigCommand, store: &Store, out: &Output) -> Result<(), CliError> {
    match command {
        ConfigCommand::Get(arg) => {
            let value = store
                .setting(arg.key)
                .await?
                .ok_or(CliError::SettingNotSet(arg.key))?;
            out.print(&serde_json::json!({"key": arg.key, "value": value}), |_| {
                value.clone()
            });
        }
        ConfigCommand::Set { key, value } => {
            let stored = store.set_setting(key.key, &value).await?;
            out.print(
                &serde_json::json!({"key": key.key, "value": stored}),
                |_| stored.clone(),
            );
        }
    }
    Ok(())
}
