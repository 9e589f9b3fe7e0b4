//! Stack depth analysis: each instruction's stack effect, followed along
//! every path (jumps, exception handlers), gives `Code::max_stack`.

use crate::compile::code::Instr;

/// Stack effect of `i` on its fall-through path, and on its jump (or
/// handler) path when it has one.
pub fn stack_effect(i: Instr) -> (i32, Option<(u32, i32)>) {
    use Instr::*;
    let n = |x: u32| x as i32;
    match i {
        Nop | Swap(_) | DeleteFast(_) | DeleteDeref(_) | DeleteGlobal(_) | DeleteName(_) => {
            (0, None)
        }
        Pop => (-1, None),
        Copy(_) => (1, None),
        LoadConst(_) | LoadFast(_) | LoadFastBinary(_) | LoadFastCompare(_) | LoadFastSubscr(_)
        | LoadFastAttr(_) | LoadFastStoreAttr(_) | LoadDeref(_) | LoadClosure(_)
        | LoadClassDeref(_) | LoadGlobal(_) | LoadName(_) => (1, None),
        StoreFast(_) | StoreDeref(_) | StoreGlobal(_) | StoreName(_) => (-1, None),
        LoadAttr(_) => (0, None),
        StoreAttr(_) => (-2, None),
        DeleteAttr(_) => (-1, None),
        LoadMethod(_) => (1, None),
        CallMethod(k) => (-n(k) - 1, None),
        BinarySubscr => (-1, None),
        StoreSubscr => (-3, None),
        StoreFastItem(_) => (-1, None),
        DeleteSubscr => (-2, None),
        BuildSlice(k) => (1 - n(k), None),
        BinaryOp(_) | CompareOp(_) | IsOp(_) | ContainsOp(_) => (-1, None),
        UnaryOp(_) => (0, None),
        BuildTuple(k) | BuildList(k) | BuildSet(k) | BuildString(k) => (1 - n(k), None),
        BuildMap(k) => (1 - 2 * n(k), None),
        FormatValue(f) => (if f & 4 != 0 { -1 } else { 0 }, None),
        ListAppend(_) | SetAdd(_) => (-1, None),
        MapAdd(_) => (-2, None),
        ListExtend(_) | SetUpdate(_) | DictUpdate(_) | DictMerge(_) => (-1, None),
        ListToTuple => (0, None),
        UnpackSequence(k) => (n(k) - 1, None),
        UnpackEx(k) => (n(k & 0xFF) + n(k >> 8), None),
        Jump(t) => (0, Some((t, 0))),
        PopJumpIfFalse(t) | PopJumpIfTrue(t) => (-1, Some((t, -1))),
        JumpIfFalseOrPop(t) | JumpIfTrueOrPop(t) => (-1, Some((t, 0))),
        GetIter => (0, None),
        ForIter(t) | ForIterStore(t) => (1, Some((t, -1))),
        MakeFunction(f) => (-1 - (f & 0xF).count_ones() as i32, None),
        Call(k) => (-n(k), None),
        CallKw(k) => (-n(k) - 1, None),
        CallEx(k) => (-1 - n(k & 1), None),
        ReturnValue => (-1, None),
        LoadBuildClass => (1, None),
        YieldValue | GetYieldFromIter | GetAwaitable => (0, None),
        YieldFrom => (-1, None),
        // The handler starts with the exception pushed at the setup depth.
        SetupExcept(h) | SetupFinally(h) => (0, Some((h, 1))),
        PopBlock => (0, None),
        PushExcInfo => (1, None),
        PopExcept => (-1, None),
        CheckExcMatch | CheckEgMatch => (0, None),
        PrepReraiseStar => (-1, None),
        Raise(k) => (-n(k), None),
        Reraise => (-1, None),
        BeforeWith => (1, None),
        WithExceptStart => (1, None),
        LoadAssertionError => (1, None),
        ImportName(_) => (-1, None),
        ImportFrom(_) => (1, None),
        ImportStar => (-1, None),
        PrintExpr => (-1, None),
    }
}

/// Whether execution never falls through to the next instruction.
fn ends_block(i: Instr) -> bool {
    matches!(
        i,
        Instr::Jump(_) | Instr::ReturnValue | Instr::Raise(_) | Instr::Reraise
    )
}

/// The deepest stack any path reaches; an error if paths disagree or the
/// stack underflows (a compiler bug).
pub fn max_stack(code: &[Instr]) -> Result<u32, String> {
    let mut depth: Vec<Option<i32>> = vec![None; code.len() + 1];
    let mut work = vec![(0usize, 0i32)];
    let mut max = 0i32;
    while let Some((pc, d)) = work.pop() {
        if pc >= code.len() {
            continue;
        }
        match depth[pc] {
            Some(seen) if seen == d => continue,
            Some(seen) => {
                return Err(format!(
                    "stack depth {seen} and {d} meet at instruction {pc}"
                ))
            }
            None => depth[pc] = Some(d),
        }
        let i = code[pc];
        let (fall, jump) = stack_effect(i);
        if let Some((target, effect)) = jump {
            let jd = d + effect;
            if jd < 0 {
                return Err(format!("stack underflow at instruction {pc}"));
            }
            max = max.max(jd);
            work.push((target as usize, jd));
        }
        let nd = d + fall;
        if nd < 0 {
            return Err(format!("stack underflow at instruction {pc}"));
        }
        max = max.max(nd).max(d);
        if !ends_block(i) {
            work.push((pc + 1, nd));
        }
    }
    Ok(max as u32)
}
