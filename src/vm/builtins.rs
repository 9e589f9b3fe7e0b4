//! The `builtins` module and the installation of built-in types' methods.

use crate::vm::types::Types;

/// Put every built-in type's native methods into its class namespace.
pub fn install_methods(types: &Types) {
    let _ = types;
}
