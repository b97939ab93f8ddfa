"""The benchmark workspace shared by bench_copy.py and bench_cow.py: a deterministic tree of
incompressible files with a realistic size mix, and "1% churn" that rewrites some of them."""

import os
import random


class Workspace:
    """Deterministic file layout: 90% small (1-16 KiB), 8% medium (16-256 KiB), 2% large files that
    carry the rest of the bytes (about 1.6 MB each at the defaults), spread over a 3-level tree."""

    def __init__(self, n_files, size_bytes, seed):
        rng = random.Random(seed)
        n_large = max(1, round(n_files * 0.02))
        n_medium = round(n_files * 0.08)
        n_small = n_files - n_large - n_medium
        small = [rng.randint(1 << 10, 16 << 10) for _ in range(n_small)]
        medium = [rng.randint(16 << 10, 256 << 10) for _ in range(n_medium)]
        rest = max(size_bytes - sum(small) - sum(medium), n_large * (256 << 10))
        avg = rest / n_large
        large = [int(avg * rng.uniform(0.5, 1.5)) for _ in range(n_large)]
        large[-1] += rest - sum(large)  # exact total
        large[-1] = max(large[-1], 256 << 10)
        # directories: 8 top-level, 6 children each, 4 grandchildren under half of those
        dirs = []
        for a in range(8):
            dirs.append(f"d{a:02d}")
            for b in range(6):
                dirs.append(f"d{a:02d}/s{b:02d}")
                if b % 2 == 0:
                    for c in range(4):
                        dirs.append(f"d{a:02d}/s{b:02d}/t{c:02d}")
        self.dirs = dirs
        self.files = []  # (relpath, size, class)
        i = 0
        for cls, sizes in (("small", small), ("medium", medium), ("large", large)):
            for sz in sizes:
                d = rng.choice(dirs)
                self.files.append((f"{d}/{cls[0]}{i:05d}.bin", sz, cls))
                i += 1
        rng.shuffle(self.files)
        self.total = sum(f[1] for f in self.files)

    def generate(self, root, seed):
        rng = random.Random(seed ^ 0x5EED)
        for d in self.dirs:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for rel, size, _ in self.files:
            with open(os.path.join(root, rel), "wb") as f:
                f.write(rng.randbytes(size))

    def churn(self, root, seed, fraction=0.01):
        """Rewrites `fraction` of the files of each size class with new random bytes (same size), so
        both the file count and the byte volume change by about `fraction`."""
        rng = random.Random(seed)
        by_class = {}
        for f in self.files:
            by_class.setdefault(f[2], []).append(f)
        picked = []
        for cls, files in sorted(by_class.items()):
            picked += rng.sample(files, max(1, round(len(files) * fraction)))
        nbytes = 0
        for rel, size, _ in picked:
            with open(os.path.join(root, rel), "wb") as f:
                f.write(rng.randbytes(size))
            nbytes += size
        return len(picked), nbytes
