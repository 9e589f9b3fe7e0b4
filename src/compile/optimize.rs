//! Peephole marking after labels are resolved.
//!
//! `LoadFast a` followed by `LoadFast b` or `LoadConst k` and a `BinaryOp`
//! becomes `LoadFastBinary a`: the VM computes `a op b` in one dispatch when
//! both operands are numbers, and otherwise runs `LoadFast a` alone. The
//! two instructions after it stay in place, so a jump to either of them,
//! the line table and the stack depths are all unchanged.
//!
//! `LoadFastCompare a` does the same for a `CompareOp`, and takes a
//! conditional jump that follows at once.
//!
//! In the same way `LoadFast a` before `LoadAttr`/`StoreAttr` becomes
//! `LoadFastAttr`/`LoadFastStoreAttr` (operand `a | site << 16`): the
//! attribute instruction is done on the local's instance in place, through
//! the code object's attribute cache `site` (numbered here, one per fused
//! pair). A local or site number too big for 16 bits leaves `LoadFast`.
//!
//! `ForIter` followed by `StoreFast` becomes `ForIterStore`: a `for` loop
//! over a list or range stores each item into its variable in one step.

use crate::compile::code::Instr;

/// Returns how many attribute cache sites the fused instructions number.
pub fn fuse(instrs: &mut [Instr]) -> u32 {
    let mut sites = 0u32;
    for at in 0..instrs.len() {
        if let (Instr::ForIter(t), Some(Instr::StoreFast(_))) = (instrs[at], instrs.get(at + 1)) {
            instrs[at] = Instr::ForIterStore(t);
            continue;
        }
        let Instr::LoadFast(a) = instrs[at] else {
            continue;
        };
        instrs[at] = match (instrs.get(at + 1), instrs.get(at + 2)) {
            (Some(Instr::LoadFast(_) | Instr::LoadConst(_)), Some(Instr::BinaryOp(_))) => {
                Instr::LoadFastBinary(a)
            }
            (Some(Instr::LoadFast(_) | Instr::LoadConst(_)), Some(Instr::CompareOp(_))) => {
                Instr::LoadFastCompare(a)
            }
            (Some(Instr::LoadConst(_)), Some(Instr::BinarySubscr)) => Instr::LoadFastSubscr(a),
            (Some(Instr::LoadAttr(_)), _) if a <= 0xffff && sites <= 0xffff => {
                sites += 1;
                Instr::LoadFastAttr(a | (sites - 1) << 16)
            }
            (Some(Instr::StoreAttr(_)), _) if a <= 0xffff && sites <= 0xffff => {
                sites += 1;
                Instr::LoadFastStoreAttr(a | (sites - 1) << 16)
            }
            _ => continue,
        };
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_complete_patterns_only() {
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
            Instr::LoadFast(6),
            Instr::LoadAttr(1),
            Instr::LoadFast(7),
            Instr::StoreAttr(2),
            Instr::LoadFast(8),
            Instr::LoadFast(9),
            Instr::LoadConst(0),
            Instr::CompareOp(0),
            Instr::ForIter(25),
            Instr::StoreFast(1),
            Instr::ForIter(25),
            Instr::UnpackSequence(2),
        ];
        assert_eq!(fuse(&mut code), 3);
        assert!(matches!(code[0], Instr::LoadFastBinary(0)));
        assert!(matches!(code[1], Instr::LoadConst(1)));
        assert!(matches!(code[3], Instr::LoadFastBinary(1)));
        assert!(matches!(code[4], Instr::LoadFast(2)));
        assert!(matches!(code[6], Instr::LoadFastAttr(3)));
        assert!(matches!(code[9], Instr::LoadFast(4)));
        assert!(matches!(code[10], Instr::LoadFast(5)));
        assert!(matches!(code[11], Instr::LoadFastAttr(0x1_0006)));
        assert!(matches!(code[12], Instr::LoadAttr(1)));
        assert!(matches!(code[13], Instr::LoadFastStoreAttr(0x2_0007)));
        assert!(matches!(code[15], Instr::LoadFast(8)));
        assert!(matches!(code[16], Instr::LoadFastCompare(9)));
        assert!(matches!(code[18], Instr::CompareOp(0)));
        assert!(matches!(code[19], Instr::ForIterStore(25)));
        assert!(matches!(code[20], Instr::StoreFast(1)));
        assert!(matches!(code[21], Instr::ForIter(25)));
    }

    #[test]
    fn constant_subscripts_of_locals() {
        let mut code = vec![
            Instr::LoadFast(0),
            Instr::LoadConst(1),
            Instr::BinarySubscr,
            Instr::LoadFast(1),
            Instr::LoadFast(2),
            Instr::BinarySubscr,
            Instr::LoadFast(3),
            Instr::LoadConst(0),
            Instr::StoreSubscr,
        ];
        fuse(&mut code);
        assert!(matches!(code[0], Instr::LoadFastSubscr(0)));
        assert!(matches!(code[1], Instr::LoadConst(1)));
        assert!(matches!(code[2], Instr::BinarySubscr));
        assert!(matches!(code[3], Instr::LoadFast(1)));
        assert!(matches!(code[6], Instr::LoadFast(3)));
    }

    #[test]
    fn big_locals_stay_unfused() {
        let mut code = vec![
            Instr::LoadFast(0x1_0000),
            Instr::LoadAttr(0),
            Instr::LoadFast(2),
            Instr::LoadAttr(0),
        ];
        assert_eq!(fuse(&mut code), 1);
        assert!(matches!(code[0], Instr::LoadFast(0x1_0000)));
        assert!(matches!(code[2], Instr::LoadFastAttr(2)));
    }
}
