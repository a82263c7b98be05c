//! `vivace gen-cert` and `vivace hash-password`: helpers for setting up a secured node.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use vivace_security::certgen;
use vivace_security::password::hash::bcrypt_hash;

use crate::cli::{GenCertArgs, HashPasswordArgs};

pub(crate) fn gen_cert(args: GenCertArgs) -> ExitCode {
    match write_certificates(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vivace gen-cert: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write_certificates(args: &GenCertArgs) -> Result<(), String> {
    let hosts = if args.hosts.is_empty() {
        vec!["localhost".to_string(), "127.0.0.1".to_string()]
    } else {
        args.hosts.clone()
    };
    let ca = args.out.join("ca.pem");
    let keystore = args.out.join("vivace.pem");
    for path in [&ca, &keystore] {
        if path.exists() && !args.force {
            return Err(format!(
                "{} exists; pass --force to replace it",
                path.display()
            ));
        }
    }
    let generated = certgen::generate(&hosts, args.days).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    write_file(&ca, &generated.ca_certificate, 0o644)?;
    write_file(&keystore, &generated.server_keystore, 0o600)?;
    println!(
        "Wrote {} (trust this in clients) and {} (certificate chain and private key for http-server.https.keystore.path), for {}, valid {} days.",
        ca.display(),
        keystore.display(),
        hosts.join(", "),
        args.days
    );
    Ok(())
}

fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // `mode` above applies only to new files; an existing one gets it here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot set permissions of {}: {e}", path.display()))?;
    }
    file.write_all(contents.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub(crate) fn hash_password(args: HashPasswordArgs) -> ExitCode {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ");
        let second = rpassword::prompt_password("Again: ");
        match (first, second) {
            (Ok(a), Ok(b)) if a == b => a,
            (Ok(_), Ok(_)) => {
                eprintln!("vivace hash-password: the passwords differ");
                return ExitCode::FAILURE;
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("vivace hash-password: cannot read the password: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let mut line = String::new();
        if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
            eprintln!("vivace hash-password: cannot read the password: {e}");
            return ExitCode::FAILURE;
        }
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.is_empty() {
        eprintln!("vivace hash-password: the password is empty");
        return ExitCode::FAILURE;
    }
    if let Some(user) = &args.user
        && (user.is_empty() || user.contains(':'))
    {
        eprintln!("vivace hash-password: the user name must be non-empty and contain no ':'");
        return ExitCode::FAILURE;
    }
    match bcrypt_hash(&password, args.cost) {
        Ok(hash) => {
            match &args.user {
                Some(user) => println!("{user}:{hash}"),
                None => println!("{hash}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vivace hash-password: {e}");
            ExitCode::FAILURE
        }
    }
}
