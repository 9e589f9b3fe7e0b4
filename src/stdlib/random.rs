//! `random`: CPython's Mersenne Twister (`Modules/_randommodule.c`) and the
//! algorithms of `Lib/random.py` on top of it, so a seeded program draws
//! exactly the numbers CPython draws.
//!
//! Module-level functions are bound methods of one shared `Random` instance,
//! as in CPython; its state sits behind a mutex so `--gil off` stays sound.

use std::sync::Arc;

use num_bigint::{BigInt, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};
use parking_lot::Mutex;

use crate::stdlib::{
    check_args, int_value, kwarg, new_module, set_attr, to_bigint, to_f64, type_name, NativeClass,
};
use crate::vm::error::{ExcKind, PyErr, PyResult};
use crate::vm::interp::Vm;
use crate::vm::value::{BoundMethod, Kwargs, Module, ObjKind, Value};

// ---------------------------------------------------------------------------
// MT19937, exactly as `_randommodule.c`.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

#[derive(Clone)]
pub struct Mt {
    state: [u32; N],
    index: usize,
}

impl Mt {
    fn init_genrand(seed: u32) -> Mt {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt { state, index: N }
    }

    /// `init_by_array`: how CPython seeds from an int (its 32-bit words, least significant first).
    pub fn from_key(key: &[u32]) -> Mt {
        let key: &[u32] = if key.is_empty() { &[0] } else { key };
        let mut mt = Mt::init_genrand(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = s[i - 1];
            s[i] = (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = s[i - 1];
            s[i] =
                (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    /// Seed from a non-negative integer, as `random_seed` does with `abs(n)`.
    pub fn from_bigint(n: &BigInt) -> Mt {
        let words = n.magnitude().to_u32_digits();
        Mt::from_key(&words)
    }

    fn generate(&mut self) {
        let s = &mut self.state;
        let mag = |y: u32| if y & 1 == 0 { 0 } else { MATRIX_A };
        for kk in 0..N - M {
            let y = (s[kk] & UPPER_MASK) | (s[kk + 1] & LOWER_MASK);
            s[kk] = s[kk + M] ^ (y >> 1) ^ mag(y);
        }
        for kk in N - M..N - 1 {
            let y = (s[kk] & UPPER_MASK) | (s[kk + 1] & LOWER_MASK);
            s[kk] = s[kk + M - N] ^ (y >> 1) ^ mag(y);
        }
        let y = (s[N - 1] & UPPER_MASK) | (s[0] & LOWER_MASK);
        s[N - 1] = s[M - 1] ^ (y >> 1) ^ mag(y);
        self.index = 0;
    }

    /// `genrand_uint32`.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.generate();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: 53 random bits, `genrand_res53`.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for k <= 64.
    pub fn bits_u64(&mut self, k: u32) -> u64 {
        match k {
            0 => 0,
            1..=32 => u64::from(self.next_u32() >> (32 - k)),
            _ => {
                let low = u64::from(self.next_u32());
                let high = u64::from(self.next_u32() >> (64 - k));
                low | (high << 32)
            }
        }
    }

    /// `getrandbits(k)` for any k: 32-bit words, least significant first; the last one
    /// keeps its top bits.
    pub fn bits_big(&mut self, k: u64) -> BigInt {
        if k <= 64 {
            return BigInt::from(self.bits_u64(k as u32));
        }
        let mut words = Vec::with_capacity(((k - 1) / 32 + 1) as usize);
        let mut left = k;
        while left > 0 {
            let mut r = self.next_u32();
            if left < 32 {
                r >>= 32 - left;
            }
            words.push(r);
            left = left.saturating_sub(32);
        }
        BigInt::from_slice(Sign::Plus, &words)
    }

    /// `_randbelow_with_getrandbits(n)` for 0 < n < 2**64.
    pub fn below_u64(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.bits_u64(k);
            if r < n {
                return r;
            }
        }
    }

    /// `_randbelow_with_getrandbits(n)` for n > 0.
    pub fn below_big(&mut self, n: &BigInt) -> BigInt {
        if let Some(small) = n.to_u64() {
            return BigInt::from(self.below_u64(small));
        }
        let k = n.bits();
        loop {
            let r = self.bits_big(k);
            if &r < n {
                return r;
            }
        }
    }
}

/// The state behind one `Random` instance.
pub struct RandomState {
    pub mt: Mt,
    /// `gauss()` makes two numbers at a time and keeps one.
    pub gauss_next: Option<f64>,
}

pub struct RandomObj {
    pub state: Mutex<RandomState>,
}

impl RandomObj {
    fn new() -> RandomObj {
        RandomObj {
            state: Mutex::new(RandomState {
                mt: Mt::from_key(&entropy_key()),
                gauss_next: None,
            }),
        }
    }
}

/// Seed material for `seed(None)`: the OS's random source, else time and pid.
fn entropy_key() -> Vec<u32> {
    use std::io::Read;
    let mut bytes = [0u8; N * 4];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if ok {
        return bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    vec![
        now as u32,
        (now >> 32) as u32,
        (now >> 64) as u32,
        std::process::id(),
    ]
}

// ---------------------------------------------------------------------------
// SHA-512, only for `seed(str)`: CPython seeds with `int.from_bytes(a + sha512(a).digest())`.

fn sha512(data: &[u8]) -> [u8; 64] {
    use sha2::Digest;
    sha2::Sha512::digest(data).into()
}

// ---------------------------------------------------------------------------
// The `Random` class.

fn this(args: &[Value]) -> PyResult<&RandomObj> {
    crate::stdlib::downcast::<RandomObj>(args.first().unwrap_or(&Value::None))
        .ok_or_else(|| PyErr::type_error("descriptor requires a 'random.Random' object"))
}

/// The seed as CPython's `random_seed` turns it into an MT key.
fn mt_from_seed(a: &Value) -> PyResult<Mt> {
    Ok(match a {
        Value::None => Mt::from_key(&entropy_key()),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            Mt::from_bigint(&to_bigint(a, "seed")?.abs())
        }
        Value::Str(s) => seed_bytes(s.as_str().as_bytes()),
        Value::Bytes(b) => seed_bytes(b),
        Value::ByteArray(b) => {
            let data = b.data.lock().clone();
            seed_bytes(&data)
        }
        Value::Float(f) => {
            // Other hashables seed with `hash(a)` taken as an unsigned word.
            let h = crate::vm::number::hash_float(*f) as u64;
            Mt::from_key(&[h as u32, (h >> 32) as u32])
        }
        _ => {
            return Err(PyErr::type_error(
                "The only supported seed types are: None,\nint, float, str, bytes, and bytearray.",
            ))
        }
    })
}

fn seed_bytes(bytes: &[u8]) -> Mt {
    let mut all = bytes.to_vec();
    all.extend_from_slice(&sha512(bytes));
    Mt::from_bigint(&BigInt::from_bytes_be(Sign::Plus, &all))
}

fn r_new(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let class = match args.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => random_class().class.clone(),
    };
    Ok(crate::stdlib::native_object(&class, RandomObj::new()))
}

fn r_init(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    check_args("Random", &args[1.min(args.len())..], 0, 1)?;
    let x = args
        .get(1)
        .or_else(|| kwarg(kw, "x"))
        .cloned()
        .unwrap_or(Value::None);
    r_seed(vm, &[args[0].clone(), x], &[])
}

fn r_seed(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    check_args("seed", &args[1..], 0, 2)?;
    let a = args
        .get(1)
        .or_else(|| kwarg(kw, "a"))
        .cloned()
        .unwrap_or(Value::None);
    let mt = mt_from_seed(&a)?;
    let mut st = me.state.lock();
    st.mt = mt;
    st.gauss_next = None;
    Ok(Value::None)
}

fn r_random(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    if args.len() > 1 {
        return Err(PyErr::type_error(format!(
            "Random.random() takes no arguments ({} given)",
            args.len() - 1
        )));
    }
    let x = me.state.lock().mt.random();
    Ok(Value::Float(x))
}

fn r_getrandbits(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    check_args("getrandbits", &args[1..], 1, 1)?;
    let k = to_bigint(&args[1], "getrandbits")?;
    if k.is_negative() {
        return Err(PyErr::value_error("number of bits must be non-negative"));
    }
    let k = k
        .to_u64()
        .filter(|k| *k <= 1 << 40)
        .ok_or_else(|| PyErr::overflow_error("Python int too large to convert to C int"))?;
    let r = me.state.lock().mt.bits_big(k);
    Ok(int_value(r))
}

/// Integer argument of randrange: ints as they are, integral floats accepted (CPython
/// still does, with a DeprecationWarning).
fn range_arg(v: &Value, what: &str) -> PyResult<BigInt> {
    match v {
        Value::Float(f) => {
            if f.fract() == 0.0 && f.is_finite() {
                Ok(BigInt::from(*f as i64))
            } else if f.is_finite() {
                Err(PyErr::value_error(format!(
                    "non-integer {what} for randrange()"
                )))
            } else {
                Err(PyErr::new(
                    ExcKind::OverflowError,
                    "cannot convert float infinity to integer",
                ))
            }
        }
        _ => to_bigint(v, "randrange"),
    }
}

fn randrange(
    me: &RandomObj,
    start: &Value,
    stop: Option<&Value>,
    step: Option<&Value>,
) -> PyResult<Value> {
    // Fast path: small ints, unit step.
    if let (Value::Int(a), Some(Value::Int(b)), None) = (start, stop, step) {
        if b > a {
            let width = (*b as i128 - *a as i128) as u64;
            let r = me.state.lock().mt.below_u64(width);
            return Ok(Value::Int((*a as i128 + r as i128) as i64));
        }
    }
    let istart = range_arg(start, "arg 1")?;
    let Some(stop) = stop.filter(|v| !v.is_none()) else {
        if step.is_some() {
            return Err(PyErr::type_error("Missing a non-None stop argument"));
        }
        if istart.is_positive() {
            let r = me.state.lock().mt.below_big(&istart);
            return Ok(int_value(r));
        }
        return Err(PyErr::value_error("empty range for randrange()"));
    };
    let istop = range_arg(stop, "stop")?;
    let width = &istop - &istart;
    let istep = match step {
        Some(s) => range_arg(s, "step")?,
        None => BigInt::one(),
    };
    if istep.is_one() {
        if width.is_positive() {
            let r = me.state.lock().mt.below_big(&width);
            return Ok(int_value(istart + r));
        }
        return Err(PyErr::value_error(format!(
            "empty range for randrange() ({istart}, {istop}, {width})"
        )));
    }
    let n = if istep.is_positive() {
        num_integer::Integer::div_floor(&(&width + &istep - 1), &istep)
    } else if istep.is_negative() {
        num_integer::Integer::div_floor(&(&width + &istep + 1), &istep)
    } else {
        return Err(PyErr::value_error("zero step for randrange()"));
    };
    if !n.is_positive() {
        return Err(PyErr::value_error("empty range for randrange()"));
    }
    let r = me.state.lock().mt.below_big(&n);
    Ok(int_value(istart + istep * r))
}

fn r_randrange(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    check_args("randrange", &args[1..], 1, 3)?;
    let start = args.get(1).or_else(|| kwarg(kw, "start"));
    let stop = args.get(2).or_else(|| kwarg(kw, "stop"));
    let step = args.get(3).or_else(|| kwarg(kw, "step"));
    let Some(start) = start else {
        return Err(PyErr::type_error(
            "Random.randrange() missing 1 required positional argument: 'start'",
        ));
    };
    randrange(me, start, stop, step)
}

fn r_randint(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    if args.len() != 3 {
        return Err(missing_args("randint", &["a", "b"], args.len() - 1));
    }
    let b1 = match &args[2] {
        Value::Int(b) if *b < i64::MAX => Value::Int(b + 1),
        Value::Float(f) => Value::Float(f + 1.0),
        other => int_value(to_bigint(other, "randint")? + 1),
    };
    randrange(me, &args[1], Some(&b1), None)
}

/// CPython's message for a method called with too few positional arguments.
fn missing_args(name: &str, names: &[&str], given: usize) -> PyErr {
    if given > names.len() {
        return PyErr::type_error(format!(
            "Random.{name}() takes {} positional arguments but {} were given",
            names.len() + 1,
            given + 1
        ));
    }
    let missing: Vec<String> = names[given..].iter().map(|n| format!("'{n}'")).collect();
    let list = match missing.len() {
        1 => missing[0].clone(),
        _ => format!(
            "{} and {}",
            missing[..missing.len() - 1].join(", "),
            missing[missing.len() - 1]
        ),
    };
    let plural = if missing.len() == 1 {
        "argument"
    } else {
        "arguments"
    };
    PyErr::type_error(format!(
        "Random.{name}() missing {} required positional {plural}: {list}",
        missing.len()
    ))
}

/// The items of a sequence argument (`choice`, `sample`, `choices`).
fn sequence_items(vm: &mut Vm, seq: &Value) -> PyResult<Vec<Value>> {
    match seq {
        // CPython's choice/shuffle start with len(seq).
        Value::None | Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_) => Err(
            PyErr::type_error(format!("object of type '{}' has no len()", type_name(seq))),
        ),
        Value::List(l) => Ok(l.items.lock().clone()),
        Value::Tuple(t) => Ok(t.items.to_vec()),
        Value::Str(s) => Ok(s
            .as_str()
            .chars()
            .map(|c| Value::from_string(c.to_string()))
            .collect()),
        _ => vm.collect(seq),
    }
}

fn is_sequence(v: &Value) -> bool {
    match v {
        Value::List(_)
        | Value::Tuple(_)
        | Value::Str(_)
        | Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::Instance(_) => true,
        Value::Object(o) => matches!(o.kind, ObjKind::Range { .. }),
        _ => false,
    }
}

/// Length of a range object without materialising it.
fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    let n = if step > 0 {
        (stop - start + step - 1) / step
    } else {
        (start - stop - step - 1) / -step
    };
    n.max(0) as i64
}

fn r_choice(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    if args.len() != 2 {
        return Err(missing_args("choice", &["seq"], args.len() - 1));
    }
    let seq = &args[1];
    if let Value::Object(o) = seq {
        if let ObjKind::Range { start, stop, step } = o.kind {
            let n = range_len(start, stop, step);
            if n == 0 {
                return Err(PyErr::index_error("Cannot choose from an empty sequence"));
            }
            let i = me.state.lock().mt.below_u64(n as u64) as i64;
            return Ok(Value::Int(start + i * step));
        }
    }
    if let Value::List(l) = seq {
        let n = l.items.lock().len();
        if n == 0 {
            return Err(PyErr::index_error("Cannot choose from an empty sequence"));
        }
        let i = me.state.lock().mt.below_u64(n as u64) as usize;
        // Another thread may have shrunk the list meanwhile (GIL off).
        return l
            .items
            .lock()
            .get(i)
            .cloned()
            .ok_or_else(|| PyErr::index_error("list index out of range"));
    }
    if matches!(seq, Value::Dict(_) | Value::Set(_) | Value::FrozenSet(_)) {
        // `seq[i]` on a set fails; on a dict it is a key lookup.
        return Err(PyErr::type_error(format!(
            "'{}' object is not subscriptable",
            type_name(seq)
        )));
    }
    let items = sequence_items(vm, seq)?;
    if items.is_empty() {
        return Err(PyErr::index_error("Cannot choose from an empty sequence"));
    }
    let i = me.state.lock().mt.below_u64(items.len() as u64) as usize;
    Ok(items[i].clone())
}

fn r_shuffle(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    if args.len() != 2 {
        return Err(missing_args("shuffle", &["x"], args.len() - 1));
    }
    match &args[1] {
        Value::List(l) => {
            let n = l.items.lock().len();
            for i in (1..n).rev() {
                let j = me.state.lock().mt.below_u64(i as u64 + 1) as usize;
                let mut items = l.items.lock();
                if i < items.len() && j < items.len() {
                    items.swap(i, j);
                }
            }
            Ok(Value::None)
        }
        other => {
            // Any mutable sequence: through its __getitem__/__setitem__.
            let n = sequence_items(vm, other)?.len();
            for i in (1..n).rev() {
                let j = me.state.lock().mt.below_u64(i as u64 + 1) as usize;
                let (vi, vj) = (Value::Int(i as i64), Value::Int(j as i64));
                let xi = vm.get_item(other, &vi)?;
                let xj = vm.get_item(other, &vj)?;
                vm.set_item(other, &vi, xj)?;
                vm.set_item(other, &vj, xi)?;
            }
            Ok(Value::None)
        }
    }
}

fn r_sample(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    sample(vm, me, args, kw)
}

fn sample(vm: &mut Vm, me: &RandomObj, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let population = args.get(1).or_else(|| kwarg(kw, "population"));
    let k = args.get(2).or_else(|| kwarg(kw, "k"));
    let (Some(population), Some(k)) = (population, k) else {
        let given = args.len() - 1 + usize::from(kwarg(kw, "population").is_some());
        return Err(missing_args("sample", &["population", "k"], given));
    };
    if args.len() > 3 {
        return Err(PyErr::type_error(format!(
            "Random.sample() takes 3 positional arguments but {} were given",
            args.len()
        )));
    }
    if !is_sequence(population) {
        return Err(PyErr::type_error(
            "Population must be a sequence.  For dicts or sets, use sorted(d).",
        ));
    }
    if let Some(counts) = kwarg(kw, "counts").filter(|c| !c.is_none()) {
        return sample_counts(vm, me, population, k, counts);
    }
    let k = to_bigint(k, "sample")?;
    let range = match population {
        Value::Object(o) => match o.kind {
            ObjKind::Range { start, stop, step } => {
                Some((start, step, range_len(start, stop, step)))
            }
            _ => None,
        },
        _ => None,
    };
    let (pool, n) = match range {
        Some((_, _, n)) => (None, n as usize),
        None => {
            let items = sequence_items(vm, population)?;
            let n = items.len();
            (Some(items), n)
        }
    };
    let k = match k.to_usize() {
        Some(k) if k <= n => k,
        _ => {
            return Err(PyErr::value_error(
                "Sample larger than population or is negative",
            ))
        }
    };
    let item = |i: usize| -> Value {
        match (&pool, range) {
            (Some(items), _) => items[i].clone(),
            (None, Some((start, step, _))) => Value::Int(start + i as i64 * step),
            (None, None) => Value::None,
        }
    };
    let mut setsize = 21usize;
    if k > 5 {
        let exp = (((k * 3) as f64).ln() / 4f64.ln()).ceil() as u32;
        setsize += 4usize.saturating_pow(exp);
    }
    let mut st = me.state.lock();
    let mut result = Vec::with_capacity(k);
    if n <= setsize {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = st.mt.below_u64((n - i) as u64) as usize;
            result.push(idx[j]);
            idx[j] = idx[n - i - 1];
        }
    } else {
        let mut selected = std::collections::HashSet::with_capacity(k);
        for _ in 0..k {
            let mut j = st.mt.below_u64(n as u64) as usize;
            while selected.contains(&j) {
                j = st.mt.below_u64(n as u64) as usize;
            }
            selected.insert(j);
            result.push(j);
        }
    }
    drop(st);
    Ok(Value::list(result.into_iter().map(item).collect()))
}

fn sample_counts(
    vm: &mut Vm,
    me: &RandomObj,
    population: &Value,
    k: &Value,
    counts: &Value,
) -> PyResult<Value> {
    let items = sequence_items(vm, population)?;
    let counts = vm.collect(counts)?;
    let mut cum = Vec::with_capacity(counts.len());
    let mut total = BigInt::zero();
    for c in &counts {
        let c = match c {
            Value::Float(_) => return Err(PyErr::type_error("Counts must be integers")),
            other => to_bigint(other, "sample")?,
        };
        total += c;
        cum.push(total.clone());
    }
    if cum.len() != items.len() {
        return Err(PyErr::value_error(
            "The number of counts does not match the population",
        ));
    }
    cum.pop();
    if !total.is_positive() {
        return Err(PyErr::value_error(
            "Total of counts must be greater than zero",
        ));
    }
    let total = total
        .to_i64()
        .ok_or_else(|| PyErr::overflow_error("Python int too large to convert to C ssize_t"))?;
    let range = crate::stdlib::range_value(0, total, 1);
    let picks = sample(vm, me, &[Value::None, range, k.clone()], &[])?;
    let picks = vm.collect(&picks)?;
    let mut out = Vec::with_capacity(picks.len());
    for s in picks {
        let s = to_bigint(&s, "sample")?;
        // bisect_right(cum_counts, s)
        let pos = cum.partition_point(|c| c <= &s);
        out.push(items[pos].clone());
    }
    Ok(Value::list(out))
}

fn r_choices(vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let Some(population) = args.get(1).or_else(|| kwarg(kw, "population")) else {
        return Err(missing_args("choices", &["population"], 0));
    };
    if args.len() > 3 {
        return Err(PyErr::type_error(format!(
            "Random.choices() takes from 2 to 3 positional arguments but {} were given",
            args.len()
        )));
    }
    let weights = args
        .get(2)
        .or_else(|| kwarg(kw, "weights"))
        .filter(|w| !w.is_none());
    let cum_weights = kwarg(kw, "cum_weights").filter(|w| !w.is_none());
    let k = match kwarg(kw, "k") {
        Some(k) => to_bigint(k, "choices")?.to_i64().unwrap_or(0).max(0) as usize,
        None => 1,
    };
    let items = sequence_items(vm, population)?;
    let n = items.len();
    let cum: Vec<f64> = match (weights, cum_weights) {
        (None, None) => {
            let nf = n as f64;
            let mut st = me.state.lock();
            let mut out = Vec::with_capacity(k);
            for _ in 0..k {
                let i = (st.mt.random() * nf).floor() as usize;
                let Some(item) = items.get(i) else {
                    return Err(PyErr::index_error("list index out of range"));
                };
                out.push(item.clone());
            }
            return Ok(Value::list(out));
        }
        (Some(_), Some(_)) => {
            return Err(PyErr::type_error(
                "Cannot specify both weights and cumulative weights",
            ))
        }
        (Some(w), None) => {
            if matches!(w, Value::Int(_)) {
                return Err(PyErr::type_error(format!(
                    "The number of choices must be a keyword argument: k={}",
                    vm.repr(w)?
                )));
            }
            let mut acc = 0.0;
            let mut cum = Vec::new();
            for x in vm.collect(w)? {
                acc += to_f64(&x)?;
                cum.push(acc);
            }
            cum
        }
        (None, Some(c)) => vm
            .collect(c)?
            .iter()
            .map(to_f64)
            .collect::<PyResult<Vec<f64>>>()?,
    };
    if cum.len() != n {
        return Err(PyErr::value_error(
            "The number of weights does not match the population",
        ));
    }
    let total = cum.last().copied().unwrap_or(0.0);
    if total <= 0.0 {
        return Err(PyErr::value_error(
            "Total of weights must be greater than zero",
        ));
    }
    if !total.is_finite() {
        return Err(PyErr::value_error("Total of weights must be finite"));
    }
    let hi = n - 1;
    let mut st = me.state.lock();
    let mut out = Vec::with_capacity(k);
    for _ in 0..k {
        let x = st.mt.random() * total;
        // bisect_right(cum_weights, x, 0, hi)
        let pos = cum[..hi].partition_point(|c| *c <= x);
        out.push(items[pos].clone());
    }
    Ok(Value::list(out))
}

fn float_args<const K: usize>(
    name: &str,
    args: &[Value],
    kw: Kwargs,
    names: [&str; K],
    defaults: [Option<f64>; K],
) -> PyResult<[f64; K]> {
    // Arity first, as CPython binds the arguments before converting any.
    if args.len() > K + 1 {
        let required = defaults.iter().filter(|d| d.is_none()).count();
        let takes = if required == K {
            format!("{}", K + 1)
        } else {
            format!("from {} to {}", required + 1, K + 1)
        };
        return Err(PyErr::type_error(format!(
            "Random.{name}() takes {takes} positional arguments but {} were given",
            args.len()
        )));
    }
    let given = |i: usize| args.get(i + 1).or_else(|| kwarg(kw, names[i]));
    if (0..K).any(|i| given(i).is_none() && defaults[i].is_none()) {
        let n = (0..K).filter(|j| args.get(j + 1).is_some()).count();
        return Err(missing_args(name, &names[..], n));
    }
    let mut out = [0.0; K];
    for i in 0..K {
        out[i] = match (given(i), defaults[i]) {
            (Some(v), _) => to_f64(v)?,
            (None, d) => d.unwrap_or(0.0),
        };
    }
    Ok(out)
}

fn r_uniform(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [a, b] = float_args("uniform", args, kw, ["a", "b"], [None, None])?;
    let r = me.state.lock().mt.random();
    Ok(Value::Float(a + (b - a) * r))
}

fn r_triangular(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [low, high] = float_args(
        "triangular",
        &args[..args.len().min(3)],
        kw,
        ["low", "high"],
        [Some(0.0), Some(1.0)],
    )?;
    let mode = args
        .get(3)
        .or_else(|| kwarg(kw, "mode"))
        .filter(|m| !m.is_none());
    let mut u = me.state.lock().mt.random();
    let mut c = match mode {
        None => 0.5,
        Some(m) => {
            if high == low {
                return Ok(Value::Float(low));
            }
            (to_f64(m)? - low) / (high - low)
        }
    };
    let (mut low, mut high) = (low, high);
    if u > c {
        u = 1.0 - u;
        c = 1.0 - c;
        std::mem::swap(&mut low, &mut high);
    }
    Ok(Value::Float(low + (high - low) * (u * c).sqrt()))
}

fn r_gauss(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [mu, sigma] = float_args("gauss", args, kw, ["mu", "sigma"], [Some(0.0), Some(1.0)])?;
    let mut st = me.state.lock();
    let z = match st.gauss_next.take() {
        Some(z) => z,
        None => {
            let x2pi = st.mt.random() * std::f64::consts::TAU;
            let g2rad = (-2.0 * (1.0 - st.mt.random()).ln()).sqrt();
            st.gauss_next = Some(x2pi.sin() * g2rad);
            x2pi.cos() * g2rad
        }
    };
    Ok(Value::Float(mu + z * sigma))
}

fn r_normalvariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [mu, sigma] = float_args(
        "normalvariate",
        args,
        kw,
        ["mu", "sigma"],
        [Some(0.0), Some(1.0)],
    )?;
    let mut st = me.state.lock();
    Ok(Value::Float(normal(&mut st.mt, mu, sigma)))
}

fn r_expovariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [lambd] = float_args("expovariate", args, kw, ["lambd"], [None])?;
    let r = me.state.lock().mt.random();
    if lambd == 0.0 {
        return Err(PyErr::zero_division("float division by zero"));
    }
    Ok(Value::Float(-(1.0 - r).ln() / lambd))
}

/// `normalvariate`'s loop (Kinderman and Monahan), shared with `lognormvariate`.
fn normal(mt: &mut Mt, mu: f64, sigma: f64) -> f64 {
    let magic = 4.0 * (-0.5f64).exp() / 2.0f64.sqrt();
    let z = loop {
        let u1 = mt.random();
        let u2 = 1.0 - mt.random();
        let z = magic * (u1 - 0.5) / u2;
        if z * z / 4.0 <= -u2.ln() {
            break z;
        }
    };
    mu + z * sigma
}

fn r_lognormvariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [mu, sigma] = float_args("lognormvariate", args, kw, ["mu", "sigma"], [None, None])?;
    let mut st = me.state.lock();
    Ok(Value::Float(normal(&mut st.mt, mu, sigma).exp()))
}

/// CPython's `gammavariate`, step for step so the stream of `random()`
/// calls (and so every later number) matches.
fn gamma(mt: &mut Mt, alpha: f64, beta: f64) -> PyResult<f64> {
    if alpha <= 0.0 || beta <= 0.0 {
        return Err(PyErr::value_error(
            "gammavariate: alpha and beta must be > 0.0",
        ));
    }
    if alpha > 1.0 {
        // R.C.H. Cheng, Applied Statistics (1977), 26, No. 1, p71-74.
        let ainv = (2.0 * alpha - 1.0).sqrt();
        let bbb = alpha - 4.0f64.ln();
        let ccc = alpha + ainv;
        let sg_magicconst = 1.0 + 4.5f64.ln();
        loop {
            let u1 = mt.random();
            if !(1e-7 < u1 && u1 < 0.9999999) {
                continue;
            }
            let u2 = 1.0 - mt.random();
            let v = (u1 / (1.0 - u1)).ln() / ainv;
            let x = alpha * v.exp();
            let z = u1 * u1 * u2;
            let r = bbb + ccc * v - x;
            if r + sg_magicconst - 4.5 * z >= 0.0 || r >= z.ln() {
                return Ok(x * beta);
            }
        }
    }
    if alpha == 1.0 {
        return Ok(-(1.0 - mt.random()).ln() * beta);
    }
    // 0 < alpha < 1: algorithm GS of Statistical Computing (Kennedy & Gentle).
    let e = std::f64::consts::E;
    loop {
        let u = mt.random();
        let b = (e + alpha) / e;
        let p = b * u;
        let x = if p <= 1.0 {
            p.powf(1.0 / alpha)
        } else {
            -((b - p) / alpha).ln()
        };
        let u1 = mt.random();
        let accept = if p > 1.0 {
            u1 <= x.powf(alpha - 1.0)
        } else {
            u1 <= (-x).exp()
        };
        if accept {
            return Ok(x * beta);
        }
    }
}

fn r_gammavariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [alpha, beta] = float_args("gammavariate", args, kw, ["alpha", "beta"], [None, None])?;
    let mut st = me.state.lock();
    Ok(Value::Float(gamma(&mut st.mt, alpha, beta)?))
}

fn r_betavariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [alpha, beta] = float_args("betavariate", args, kw, ["alpha", "beta"], [None, None])?;
    let mut st = me.state.lock();
    let y = gamma(&mut st.mt, alpha, 1.0)?;
    if y == 0.0 {
        return Ok(Value::Float(0.0));
    }
    let z = gamma(&mut st.mt, beta, 1.0)?;
    Ok(Value::Float(y / (y + z)))
}

fn r_vonmisesvariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [mu, kappa] = float_args("vonmisesvariate", args, kw, ["mu", "kappa"], [None, None])?;
    let tau = std::f64::consts::TAU;
    let mut st = me.state.lock();
    let mt = &mut st.mt;
    if kappa <= 1e-6 {
        return Ok(Value::Float(tau * mt.random()));
    }
    let s = 0.5 / kappa;
    let r = s + (1.0 + s * s).sqrt();
    let z = loop {
        let u1 = mt.random();
        let z = (std::f64::consts::PI * u1).cos();
        let d = z / (r + z);
        let u2 = mt.random();
        if u2 < 1.0 - d * d || u2 <= (1.0 - d) * d.exp() {
            break z;
        }
    };
    let q = 1.0 / r;
    let f = (q + z) / (1.0 + q * z);
    let theta = if mt.random() > 0.5 {
        mu + f.acos()
    } else {
        mu - f.acos()
    };
    // Python's float `%` with a positive divisor.
    Ok(Value::Float(theta.rem_euclid(tau)))
}

fn r_paretovariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [alpha] = float_args("paretovariate", args, kw, ["alpha"], [None])?;
    let u = 1.0 - me.state.lock().mt.random();
    if alpha == 0.0 {
        return Err(PyErr::zero_division("float division by zero"));
    }
    Ok(Value::Float(u.powf(-1.0 / alpha)))
}

fn r_weibullvariate(_vm: &mut Vm, args: &[Value], kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let [alpha, beta] = float_args("weibullvariate", args, kw, ["alpha", "beta"], [None, None])?;
    let u = 1.0 - me.state.lock().mt.random();
    if beta == 0.0 {
        return Err(PyErr::zero_division("float division by zero"));
    }
    Ok(Value::Float(alpha * (-u.ln()).powf(1.0 / beta)))
}

fn r_randbytes(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    check_args("randbytes", &args[1..], 1, 1)?;
    let n = to_bigint(&args[1], "randbytes")?;
    if n.is_negative() {
        return Err(PyErr::value_error("number of bits must be non-negative"));
    }
    let n = n.to_usize().unwrap_or(0);
    let big = me.state.lock().mt.bits_big(n as u64 * 8);
    let mut bytes = big.to_bytes_le().1;
    bytes.resize(n, 0);
    Ok(Value::Bytes(bytes.into()))
}

fn r_getstate(_vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    let st = me.state.lock();
    let mut words: Vec<Value> = st
        .mt
        .state
        .iter()
        .map(|w| Value::Int(i64::from(*w)))
        .collect();
    words.push(Value::Int(st.mt.index as i64));
    let gauss = st.gauss_next.map_or(Value::None, Value::Float);
    Ok(Value::tuple(vec![
        Value::Int(3),
        Value::tuple(words),
        gauss,
    ]))
}

fn r_setstate(vm: &mut Vm, args: &[Value], _kw: Kwargs) -> PyResult<Value> {
    let me = this(args)?;
    check_args("setstate", &args[1..], 1, 1)?;
    let parts = vm.collect(&args[1])?;
    let bad = || PyErr::value_error("state vector is the wrong size");
    if parts.len() != 3 {
        return Err(PyErr::value_error(
            "state with version None passed to Random.setstate() of version 3",
        ));
    }
    let words = vm.collect(&parts[1])?;
    if words.len() != N + 1 {
        return Err(bad());
    }
    let mut mt = Mt::init_genrand(0);
    for (slot, w) in mt.state.iter_mut().zip(&words) {
        *slot = to_bigint(w, "setstate")?.to_u32().ok_or_else(|| {
            PyErr::overflow_error("Python int too large to convert to C unsigned long")
        })?;
    }
    let index = to_bigint(&words[N], "setstate")?
        .to_usize()
        .unwrap_or(N + 1);
    if index > N {
        return Err(PyErr::value_error("invalid state"));
    }
    mt.index = index;
    let gauss = match &parts[2] {
        Value::None => None,
        v => Some(to_f64(v)?),
    };
    let mut st = me.state.lock();
    st.mt = mt;
    st.gauss_next = gauss;
    Ok(Value::None)
}

type Method = (&'static str, crate::vm::value::NativeFn);

const METHODS: &[Method] = &[
    ("seed", r_seed),
    ("random", r_random),
    ("getrandbits", r_getrandbits),
    ("randrange", r_randrange),
    ("randint", r_randint),
    ("choice", r_choice),
    ("shuffle", r_shuffle),
    ("sample", r_sample),
    ("choices", r_choices),
    ("uniform", r_uniform),
    ("triangular", r_triangular),
    ("gauss", r_gauss),
    ("normalvariate", r_normalvariate),
    ("expovariate", r_expovariate),
    ("lognormvariate", r_lognormvariate),
    ("gammavariate", r_gammavariate),
    ("betavariate", r_betavariate),
    ("vonmisesvariate", r_vonmisesvariate),
    ("paretovariate", r_paretovariate),
    ("weibullvariate", r_weibullvariate),
    ("randbytes", r_randbytes),
    ("getstate", r_getstate),
    ("setstate", r_setstate),
];

fn random_class() -> &'static NativeClass {
    static CLASS: std::sync::OnceLock<NativeClass> = std::sync::OnceLock::new();
    CLASS.get_or_init(|| {
        let mut methods: Vec<Method> = METHODS.to_vec();
        methods.push(("__init__", r_init));
        NativeClass::new("Random", "random", &methods, &[("__new__", r_new)])
    })
}

pub fn make(_vm: &mut Vm) -> PyResult<Arc<Module>> {
    let m = new_module("random");
    let class = random_class();
    set_attr(&m, "Random", Value::Class(class.class.clone()));
    let inst = crate::stdlib::native_object(&class.class, RandomObj::new());
    for (name, _) in METHODS {
        if let Some(func) = class.method(name) {
            let bound = Value::BoundMethod(Arc::new(BoundMethod {
                func,
                receiver: inst.clone(),
            }));
            set_attr(&m, name, bound);
        }
    }
    set_attr(&m, "_inst", inst);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(n: i64) -> Mt {
        Mt::from_bigint(&BigInt::from(n).abs())
    }

    #[test]
    fn stream_matches_cpython() {
        // python3: random.seed(s); [random.getrandbits(32) for _ in range(3)], random.random()
        let cases: [(i64, [u32; 3], f64); 5] = [
            (0, [3626764237, 1654615998, 3255389356], 0.890243920837131),
            (1, [577090037, 2444712010, 3639700191], 0.8022650611681835),
            (42, [2746317213, 478163327, 107420369], 0.7415504997598329),
            (
                12345,
                [1789368711, 3146859322, 43676229],
                0.8201747225612886,
            ),
            (
                -5,
                [2675342405, 1097127993, 3185950873],
                0.35853551175589526,
            ),
        ];
        for (seed, words, x) in cases {
            let mut mt = seeded(seed);
            let got = [mt.next_u32(), mt.next_u32(), mt.next_u32()];
            assert_eq!(got, words, "seed {seed}");
            assert_eq!(mt.random(), x, "seed {seed}");
        }
        let big = BigInt::from(2).pow(100) + 7;
        let mut mt = Mt::from_bigint(&big);
        assert_eq!(mt.next_u32(), 1786885132);
    }

    #[test]
    fn randint_and_bits_match_cpython() {
        // random.seed(42); [random.randint(1,100) for _ in range(5)]
        let mut mt = seeded(42);
        let got: Vec<u64> = (0..5).map(|_| 1 + mt.below_u64(100)).collect();
        assert_eq!(got, [82, 15, 4, 95, 36]);
        // random.seed(0); random.getrandbits(70), random.randint(0, 10**30)
        let mut mt = seeded(0);
        assert_eq!(mt.bits_big(70).to_string(), "892550237140533643213");
        let n = BigInt::from(10).pow(30) + 1;
        assert_eq!(
            mt.below_big(&n).to_string(),
            "320120153174708524685608814210"
        );
    }

    #[test]
    fn string_seed_matches_cpython() {
        // random.seed('hello'); random.random()
        assert_eq!(seed_bytes(b"hello").random(), 0.3537754404730722);
        let digest = sha512(b"abc");
        assert_eq!(digest[0], 0xdd);
        assert_eq!(digest[63], 0x9f);
    }
}
