//! A readable listing of a code object (`gilvm --dis`, and tests).

use std::fmt::Write;

use crate::compile::code::{BinaryOpKind, Code, CompareKind, Const, Instr, UnaryOpKind};

/// Disassemble `code` and, after it, every code object among its constants.
pub fn disassemble(code: &Code) -> String {
    let mut out = String::new();
    dis_into(code, &mut out);
    out
}

fn dis_into(code: &Code, out: &mut String) {
    let _ = writeln!(
        out,
        "code {} (args {}, posonly {}, kwonly {}, flags {:#x}, stack {}, line {})",
        code.qualname,
        code.argcount,
        code.posonlyargcount,
        code.kwonlyargcount,
        code.flags,
        code.max_stack,
        code.first_line
    );
    if !code.varnames.is_empty() {
        let _ = writeln!(out, "  varnames: {}", join(&code.varnames));
    }
    if !code.cellvars.is_empty() {
        let _ = writeln!(out, "  cellvars: {}", join(&code.cellvars));
    }
    if !code.freevars.is_empty() {
        let _ = writeln!(out, "  freevars: {}", join(&code.freevars));
    }
    let mut last_line = 0;
    for (pc, instr) in code.instrs.iter().enumerate() {
        let line = code.lines.get(pc).copied().unwrap_or(0);
        let line_col = if line != last_line {
            format!("{line:>4}")
        } else {
            "    ".to_string()
        };
        last_line = line;
        let _ = writeln!(out, "{line_col} {pc:>4} {}", describe(code, *instr));
    }
    for c in &code.consts {
        if let Const::Code(inner) = c {
            out.push('\n');
            dis_into(inner, out);
        }
    }
}

fn join(names: &[std::sync::Arc<str>]) -> String {
    names.iter().map(|n| &**n).collect::<Vec<_>>().join(", ")
}

fn const_repr(c: &Const) -> String {
    match c {
        Const::None => "None".into(),
        Const::Bool(b) => if *b { "True" } else { "False" }.into(),
        Const::Ellipsis => "Ellipsis".into(),
        Const::Int(i) => i.to_string(),
        Const::BigInt(s) => s.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Complex(re, im) => {
            crate::vm::complex::repr(crate::vm::complex::Complex::new(*re, *im))
        }
        Const::Str(s) => format!("{:?}", &**s),
        Const::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        Const::Tuple(t) => {
            let items: Vec<String> = t.iter().map(const_repr).collect();
            if items.len() == 1 {
                format!("({},)", items[0])
            } else {
                format!("({})", items.join(", "))
            }
        }
        Const::Code(c) => format!("<code {}>", c.qualname),
    }
}

fn describe(code: &Code, i: Instr) -> String {
    use Instr::*;
    let name = |n: u32| {
        code.names
            .get(n as usize)
            .map_or("?".to_string(), |s| s.to_string())
    };
    let var = |n: u32| {
        code.varnames
            .get(n as usize)
            .map_or("?".to_string(), |s| s.to_string())
    };
    let cell = |n: u32| {
        let n = n as usize;
        code.cellvars
            .get(n)
            .or_else(|| code.freevars.get(n.wrapping_sub(code.cellvars.len())))
            .map_or("?".to_string(), |s| s.to_string())
    };
    let text = format!("{i:?}");
    let op = text.split('(').next().unwrap_or("").to_string();
    let detail = match i {
        LoadConst(c) => code.consts.get(c as usize).map(const_repr),
        LoadFast(n) | LoadFastBinary(n) | LoadFastCompare(n) | LoadFastSubscr(n) | StoreFast(n)
        | DeleteFast(n) => Some(var(n)),
        LoadFastAttr(n) | LoadFastStoreAttr(n) => {
            Some(format!("{}, attribute site {}", var(n & 0xffff), n >> 16))
        }
        StoreFastItem(n) => Some(format!(
            "{}[{}]",
            var(n & 0xffff),
            code.consts
                .get((n >> 16) as usize)
                .map_or("?".to_string(), const_repr)
        )),
        LoadDeref(n) | StoreDeref(n) | DeleteDeref(n) | LoadClosure(n) | LoadClassDeref(n) => {
            Some(cell(n))
        }
        LoadGlobal(n) | StoreGlobal(n) | DeleteGlobal(n) | LoadName(n) | StoreName(n)
        | DeleteName(n) | LoadAttr(n) | StoreAttr(n) | DeleteAttr(n) | LoadMethod(n)
        | ImportName(n) | ImportFrom(n) => Some(name(n)),
        BinaryOp(k) if (k as usize) < BinaryOpKind::ALL.len() => {
            Some(BinaryOpKind::from_u32(k).symbol().to_string())
        }
        UnaryOp(k) if k < 4 => Some(format!("{:?}", UnaryOpKind::from_u32(k))),
        CompareOp(k) if k < 6 => Some(CompareKind::from_u32(k).symbol().to_string()),
        _ => None,
    };
    let arg = text
        .split_once('(')
        .map(|(_, rest)| rest.trim_end_matches(')').to_string())
        .unwrap_or_default();
    match detail {
        Some(d) => format!("{op:<20} {arg:>3} ({d})"),
        None if arg.is_empty() => op,
        None => format!("{op:<20} {arg:>3}"),
    }
}
