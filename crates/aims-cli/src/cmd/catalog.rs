//! `aims catalog`: the clauses and Annex A controls.

use std::process::ExitCode;

use aims_core::catalog;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the catalog as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let catalog = catalog::catalog();
    if args.json {
        println!("{}", serde_json::to_string_pretty(catalog)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", catalog.standard);
    println!("\nClauses");
    for clause in &catalog.clauses {
        let indent = if clause.parent.is_some() { "  " } else { "" };
        println!("{indent}{:<7} {}", clause.id, clause.title);
    }
    println!("\nAnnex A controls ({})", catalog.controls.len());
    for group in &catalog.groups {
        println!("{:<9} {}", group.id, group.title);
        for control in catalog.controls.iter().filter(|c| c.group == group.id) {
            println!("  {:<9} {}", control.id, control.title);
        }
    }
    Ok(ExitCode::SUCCESS)
}
