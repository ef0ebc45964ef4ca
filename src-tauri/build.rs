fn main() {
    // tauri.conf.json is read through src-tauri/tauri.conf.json, a symlink to the one at the
    // top of the repository, so the build script, `generate_context!` and the Tauri CLI all
    // resolve its relative paths from this directory.
    tauri_build::build();
}
