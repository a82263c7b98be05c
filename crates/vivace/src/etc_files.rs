//! Which files of a Trino-style `etc/` directory Vivace reads, and the check that nothing
//! else that looks like configuration sits there.
//!
//! An operator who copies a Trino `etc/` must never believe a setting is active when Vivace
//! does not read it: an ignored `access-control.properties` would let every tenant read every
//! catalog. So every `.properties` file directly under `etc/` must be one Vivace reads, and
//! the Trino files it does not implement yet are named with what they would have done.
//! Other files (keys, certificates, password files, rule files) are data that a property
//! points to, and are left alone.

use std::path::{Path, PathBuf};

/// The `.properties` files directly under `etc/` that Vivace always reads.
const ALWAYS_READ: [&str; 2] = ["config.properties", "node.properties"];

/// Trino configuration files Vivace does not implement yet, and what each would configure.
const NOT_IMPLEMENTED: [(&str, &str); 12] = [
    (
        "access-control.properties",
        "access control is not implemented yet, so every authenticated user could read every catalog",
    ),
    (
        "resource-groups.properties",
        "resource groups are not implemented yet, so queries would run without their limits",
    ),
    (
        "event-listener.properties",
        "event listeners are not implemented yet, so no query events would be delivered",
    ),
    (
        "session-property-config.properties",
        "session property managers are not implemented yet, so no defaults would be applied",
    ),
    (
        "group-provider.properties",
        "group providers are not implemented yet, so users would have no groups",
    ),
    (
        "certificate-authenticator.properties",
        "certificate authentication is not implemented",
    ),
    (
        "header-authenticator.properties",
        "header authentication is not implemented",
    ),
    (
        "exchange-manager.properties",
        "a spooling exchange manager is not implemented; failed tasks are retried without one",
    ),
    (
        "spooling-manager.properties",
        "spooling of results is not implemented",
    ),
    (
        "catalog-store.properties",
        "dynamic catalog stores are not implemented; catalogs are read from etc/catalog",
    ),
    (
        "log.properties",
        "log levels are set with the RUST_LOG environment variable (for example RUST_LOG=vivace=debug), not with this file",
    ),
    (
        "jvm.config",
        "Vivace does not run on a JVM; memory limits are the query.max-memory* properties",
    ),
];

/// Checks the top level of `etc/`: every `.properties` file must be one Vivace reads (the two
/// it always reads, or one of `also_read`, the files other settings named, such as the
/// password authenticators'), and no Trino configuration file that Vivace does not implement
/// may be present.
pub(crate) fn check_etc_files(dir: &Path, also_read: &[PathBuf]) -> Result<(), String> {
    let password_configured = !also_read.is_empty();
    let also_read: Vec<PathBuf> = also_read
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
        if entry.path().is_dir() {
            continue;
        }
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in names {
        // Hidden files (editor locks, macOS `._` copies) are nobody's configuration.
        if name.starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        // Case-insensitive file systems would let Trino read `ACCESS-CONTROL.PROPERTIES`.
        let name = name.to_ascii_lowercase();
        let stop = "remove it or move it out of etc/; Vivace does not start while a configuration \
                    file it would ignore is present";
        if let Some((_, what)) = NOT_IMPLEMENTED.iter().find(|(file, _)| *file == name) {
            return Err(format!(
                "{}: Vivace does not read this file ({what}); {stop}",
                path.display()
            ));
        }
        let read = ALWAYS_READ.contains(&name.as_str())
            || path
                .canonicalize()
                .is_ok_and(|path| also_read.contains(&path));
        if read || !name.ends_with(".properties") {
            continue;
        }
        if name == "password-authenticator.properties" {
            let why = if !password_configured {
                "http-server.authentication.type does not include PASSWORD"
            } else {
                "password-authenticator.config-files names other files"
            };
            return Err(format!(
                "{}: present but not read, so no password it configures would be checked: {why}",
                path.display()
            ));
        }
        return Err(format!(
            "{}: Vivace does not read this file (it reads {}, etc/catalog/*.properties and the \
             files that password-authenticator.config-files names); {stop}",
            path.display(),
            ALWAYS_READ.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etc_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::write(dir.path().join(file), "x=y\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("catalog")).unwrap();
        dir
    }

    #[test]
    fn the_files_vivace_reads_and_data_files_pass() {
        let dir = etc_with(&[
            "config.properties",
            "node.properties",
            "password-authenticator.properties",
            "ldap-authenticator.properties",
            "password.db",
            "jwt-key.pem",
            "rules-for-later.json",
        ]);
        let named = [
            dir.path().join("password-authenticator.properties"),
            dir.path().join("./ldap-authenticator.properties"),
        ];
        check_etc_files(dir.path(), &named).unwrap();
    }

    #[test]
    fn every_unimplemented_trino_file_stops_startup_by_name() {
        for (file, _) in NOT_IMPLEMENTED {
            let dir = etc_with(&["config.properties", file]);
            let err = check_etc_files(dir.path(), &[]).unwrap_err();
            assert!(err.contains(file), "{err}");
            assert!(err.contains("does not read this file"), "{err}");
        }
        let dir = etc_with(&["config.properties", "access-control.properties"]);
        let err = check_etc_files(dir.path(), &[]).unwrap_err();
        assert!(
            err.contains("every authenticated user could read every catalog"),
            "{err}"
        );
    }

    #[test]
    fn names_are_compared_without_case_and_hidden_files_are_skipped() {
        let dir = etc_with(&["config.properties", "Access-Control.PROPERTIES"]);
        let err = check_etc_files(dir.path(), &[]).unwrap_err();
        assert!(err.contains("Access-Control.PROPERTIES"), "{err}");
        let dir = etc_with(&[
            "config.properties",
            "._config.properties",
            ".#node.properties",
        ]);
        check_etc_files(dir.path(), &[]).unwrap();
    }

    #[test]
    fn an_unknown_properties_file_stops_startup() {
        let dir = etc_with(&["config.properties", "acess-control.properties"]);
        let err = check_etc_files(dir.path(), &[]).unwrap_err();
        assert!(err.contains("acess-control.properties"), "{err}");
        assert!(err.contains("config.properties, node.properties"), "{err}");
        let named = [dir.path().join("other.properties")];
        assert!(check_etc_files(dir.path(), &named).is_err());
    }

    #[test]
    fn a_password_file_without_password_authentication_stops_startup() {
        let dir = etc_with(&["config.properties", "password-authenticator.properties"]);
        let err = check_etc_files(dir.path(), &[]).unwrap_err();
        assert!(err.contains("does not include PASSWORD"), "{err}");
        let named = [dir.path().join("other-authenticator.properties")];
        let err = check_etc_files(dir.path(), &named).unwrap_err();
        assert!(err.contains("names other files"), "{err}");
    }
}
