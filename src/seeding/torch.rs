//! PyTorch's CPU random streams, rebuilt bit for bit (docs/methods.md,
//! "Seeds"): the mt19937 generator, `torch.randperm` and the float32
//! `kaiming_uniform_(a = √5)` that `nn.Linear` uses for its weights. With
//! these, seed `s` gives exactly the split and initial weights of the
//! paper's script (`tian_eigengap.py`) run with `--seed s`.

/// The 32-bit Mersenne Twister (MT19937) as PyTorch's CPU generator runs it.
pub struct Mt19937 {
    state: [u32; 624],
    next: usize,
}

impl Mt19937 {
    const N: usize = 624;
    const M: usize = 397;

    /// `torch.manual_seed(seed)`: the standard initialisation from the low 32 bits.
    pub fn new(seed: u64) -> Self {
        let mut state = [0u32; Self::N];
        state[0] = seed as u32;
        for j in 1..Self::N {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(j as u32);
        }
        Self { state, next: Self::N }
    }

    /// Regenerate all 624 words.
    fn twist(&mut self) {
        for k in 0..Self::N {
            let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % Self::N] & 0x7FFF_FFFF);
            let mag = if y & 1 == 1 { 0x9908_B0DF } else { 0 };
            self.state[k] = self.state[(k + Self::M) % Self::N] ^ (y >> 1) ^ mag;
        }
        self.next = 0;
    }

    /// The next tempered 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.next >= Self::N {
            self.twist();
        }
        let mut y = self.state[self.next];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C_5680;
        y ^= (y << 15) & 0xEFC6_0000;
        y ^ (y >> 18)
    }
}

/// `torch.randperm(n, generator = mt19937(seed))` on the CPU, for n < 2³²/20
/// (PyTorch's small-n path): a forward Fisher–Yates with `u32 % (n − i)`.
pub fn randperm(n: usize, seed: u64) -> Vec<usize> {
    assert!((n as u64) < (1u64 << 32) / 20, "randperm: n = {n} is beyond PyTorch's 32-bit path");
    let mut rng = Mt19937::new(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in 0..n.saturating_sub(1) {
        let z = rng.next_u32() as usize % (n - i);
        perm.swap(i, i + z);
    }
    perm
}

/// The bound of `kaiming_uniform_(a = √5)` for `fan_in`, in PyTorch's f64
/// expression order: √3 · (gain / √fan_in) with gain = √(2 / (1 + a²)).
pub fn kaiming_bound(fan_in: usize) -> f64 {
    let a = 5.0f64.sqrt();
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    3.0f64.sqrt() * (gain / (fan_in as f64).sqrt())
}

/// `len` draws of float32 `uniform_(−bound, bound)`: one u32 per element,
/// its low 24 bits scaled to [0, 1), then one fused multiply-add.
pub fn uniform_f32(rng: &mut Mt19937, len: usize, bound: f64) -> Vec<f32> {
    let from = (-bound) as f32;
    let range = bound as f32 - from;
    (0..len)
        .map(|_| {
            let x = (rng.next_u32() & 0x00FF_FFFF) as f32 * (1.0 / (1u32 << 24) as f32);
            x.mul_add(range, from)
        })
        .collect()
}

/// W [K, 2M] then V [M, K], row-major, from `torch.manual_seed(seed)`'s
/// global generator, as `nn.Linear(2M, K)` then `nn.Linear(K, M)` draw them.
pub fn linear_weights(modulus: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Mt19937::new(seed);
    let w = uniform_f32(&mut rng, width * 2 * modulus, kaiming_bound(2 * modulus));
    let v = uniform_f32(&mut rng, modulus * width, kaiming_bound(width));
    (w, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_known_answers() {
        let mut rng = Mt19937::new(0);
        let first: Vec<u32> = (0..3).map(|_| rng.next_u32()).collect();
        assert_eq!(first, [2_357_136_044, 2_546_248_239, 3_071_714_933]);
        // The reference implementation's 10000th output for its default seed 5489.
        let mut rng = Mt19937::new(5489);
        let last = (0..10_000).map(|_| rng.next_u32()).last();
        assert_eq!(last, Some(4_123_659_995));
    }

    #[test]
    fn randperm_matches_pytorch_seed_0() {
        let perm = randperm(71 * 71, 0);
        assert_eq!(&perm[..5], &[4772, 4960, 1003, 3339, 2225]);
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        assert!(sorted.iter().enumerate().all(|(i, &p)| i == p));
    }

    #[test]
    fn kaiming_bounds_at_paper_scale() {
        assert_eq!(kaiming_bound(142), 0.08391813582966891);
        assert_eq!(kaiming_bound(2048), 0.022097086912079605);
    }

    #[test]
    fn first_weights_match_pytorch_bit_patterns() {
        let (w, v) = linear_weights(71, 2048, 0);
        let bits = |x: &[f32]| x[..3].iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w), [0xba24b329, 0x3d38641c, 0xbd8d73be]);
        assert_eq!(bits(&v), [0x3cac1d27, 0x3bbf7df2, 0xba280ce8]);
        let bound = kaiming_bound(142) as f32;
        assert!(w.iter().all(|x| (-bound..bound).contains(x)));
    }
}
