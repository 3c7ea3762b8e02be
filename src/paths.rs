//! Platform directories (XDG on Linux, the native ones elsewhere).

use std::path::PathBuf;

use directories::ProjectDirs;

pub fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "termdesk")
}

/// Where logs go: the state dir where the platform has one, else the local
/// data dir, else the temp dir.
pub fn log_dir() -> PathBuf {
    project_dirs()
        .map(|dirs| {
            dirs.state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .join("logs")
        })
        .unwrap_or_else(|| std::env::temp_dir().join("termdesk-logs"))
}
