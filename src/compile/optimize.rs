//! Peephole marking after labels are resolved.
//!
//! `LoadFast a` followed by `LoadFast b` or `LoadConst k` and a `BinaryOp`
//! becomes `LoadFastBinary a`: the VM computes `a op b` in one dispatch when
//! both operands are numbers, and otherwise runs `LoadFast a` alone. The
//! two instructions after it stay in place, so a jump to either of them,
//! the line table and the stack depths are all unchanged.

use crate::compile::code::Instr;

pub fn fuse(instrs: &mut [Instr]) {
    for at in 0..instrs.len().saturating_sub(2) {
        if let (Instr::LoadFast(a), Instr::LoadFast(_) | Instr::LoadConst(_), Instr::BinaryOp(_)) =
            (instrs[at], instrs[at + 1], instrs[at + 2])
        {
            instrs[at] = Instr::LoadFastBinary(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_only_complete_triples() {
        let mut code = vec![
            Instr::LoadFast(0),
            Instr::LoadConst(1),
            Instr::BinaryOp(0),
            Instr::LoadFast(1),
            Instr::LoadFast(2),
            Instr::BinaryOp(5),
            Instr::LoadFast(3),
            Instr::LoadAttr(0),
            Instr::BinaryOp(0),
            Instr::LoadFast(4),
            Instr::LoadFast(5),
        ];
        fuse(&mut code);
        assert!(matches!(code[0], Instr::LoadFastBinary(0)));
        assert!(matches!(code[1], Instr::LoadConst(1)));
        assert!(matches!(code[3], Instr::LoadFastBinary(1)));
        assert!(matches!(code[4], Instr::LoadFast(2)));
        assert!(matches!(code[6], Instr::LoadFast(3)));
        assert!(matches!(code[9], Instr::LoadFast(4)));
    }
}
