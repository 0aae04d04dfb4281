//! `gorae schema`: the JSON Schema of gorae.yaml on stdout, for editors
//! (yaml-language-server, VS Code) to complete and check the file.

use crate::exit::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    let schema = crate::config::schema::json_schema();
    super::print_stdout(&format!("{schema}\n"))?;
    Ok(ExitCode::Success)
}
