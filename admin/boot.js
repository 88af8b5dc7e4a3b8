// Starts the console: xtask replaces the names with the content-hashed bundle files.
import init from "/admin/__ADMIN_GLUE__";
init({ module_or_path: "/admin/__ADMIN_WASM__" });
