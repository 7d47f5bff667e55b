//! `aims schema [TYPE] [--out DIR]`: the JSON Schemas of the register's top-level types.
//!
//! Without TYPE and `--out`, lists the types. With TYPE, prints its schema. With `--out DIR`,
//! writes `<type>.schema.json` files (all types, or TYPE only); `schemas/` holds the committed
//! copies, regenerated with `aims schema --out schemas`.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use aims_core::schema::{schema, schemas, NamedSchema};

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The type, e.g. `register`, `risk`, `oversight_checkpoint`; omit to list them.
    r#type: Option<String>,
    /// Write `<type>.schema.json` files into this directory instead of printing.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let selected: Vec<NamedSchema> = match &args.r#type {
        Some(name) => match schema(name) {
            Some(found) => vec![found],
            None => {
                let names: Vec<&str> = schemas().iter().map(|schema| schema.name).collect();
                return Err(format!(
                    "unknown type `{name}` (expected one of: {})",
                    names.join(", ")
                )
                .into());
            }
        },
        None => schemas(),
    };
    match (&args.out, &args.r#type) {
        (Some(dir), _) => {
            fs::create_dir_all(dir)
                .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
            for schema in &selected {
                let path = dir.join(schema.file_name());
                fs::write(&path, schema.to_pretty_json())
                    .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
                println!("{}", path.display());
            }
        }
        (None, Some(_)) => {
            for schema in &selected {
                print!("{}", schema.to_pretty_json());
            }
        }
        (None, None) => {
            for schema in &selected {
                println!("{}", schema.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
