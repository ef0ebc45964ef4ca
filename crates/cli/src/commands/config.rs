use quire_client::Device;

use crate::cli::ConfigCommand;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(command: ConfigCommand, device: &Device, out: &Output) -> Result<(), CliError> {
    match command {
        ConfigCommand::Get(arg) => {
            let value = device
                .setting(arg.key)
                .await?
                .ok_or(CliError::SettingNotSet(arg.key))?;
            out.print(&serde_json::json!({"key": arg.key, "value": value}), |_| {
                value.clone()
            });
        }
        ConfigCommand::Set { key, value } => {
            let stored = device.set_setting(key.key, &value).await?;
            out.print(
                &serde_json::json!({"key": key.key, "value": stored}),
                |_| stored.clone(),
            );
        }
        ConfigCommand::Unset(arg) => {
            let now = device.unset_setting(arg.key).await?;
            out.print(&serde_json::json!({"key": arg.key, "value": now}), |_| {
                now.as_ref().map_or_else(
                    || format!("{} is not set", arg.key),
                    |default| format!("{} is back to its default, {default}", arg.key),
                )
            });
        }
    }
    Ok(())
}
