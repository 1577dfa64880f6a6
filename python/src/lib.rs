//! `cronos_secrets._native`: the Python binding of the cronos-secrets library. Every read,
//! write and check is the Rust crate's (the launcher's resolution, validation and audit
//! events); this crate only converts between Python and Rust values and errors, releases the
//! GIL while the library waits on the network, and keeps the optional cache
//! (`cache_ttl=`). The Python package (cronos_secrets/__init__.py) gives it the guide's names.

mod audit;
mod cache;
mod config_dict;
mod errors;
mod manager;

use pyo3::prelude::*;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    audit::forward_to_python_logging();
    errors::register(module)?;
    module.add_class::<manager::NativeManager>()?;
    Ok(())
}
