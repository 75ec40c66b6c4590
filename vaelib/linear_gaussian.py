"""A latent-variable model whose evidence is exact: the linear-Gaussian model.

The model is probabilistic PCA::

    z ~ N(0, I_d)
    x | z ~ N(W z + b, noise_var * I_D)

Everything a VAE has to approximate is available in closed form here: the
evidence ``log p(x)`` (``x`` is Gaussian with covariance ``W W^T + noise_var I``),
the posterior ``p(z | x)`` and, for a Gaussian ``q(z | x) = N(m, S)``, the ELBO.
Chapter 1 of the book uses it to check numerically that the ELBO never exceeds
``log p(x)`` and that the gap is exactly ``KL(q(z | x) || p(z | x))``.

All arrays are numpy float64; one observation ``x`` of shape ``(D,)`` at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

_LOG_2PI = np.log(2.0 * np.pi)


def _as_vector(value, name: str, size: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1 or (size is not None and array.shape[0] != size):
        expected = f"({size},)" if size is not None else "(n,)"
        raise ValueError(
            f"Expected {name} of shape {expected}. Received: {name}.shape={array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Expected {name} to hold finite values. Received: {name}={array}")
    return array


def _cholesky(cov, name: str, size: int) -> np.ndarray:
    """Validate a covariance matrix and return its lower Cholesky factor."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.shape != (size, size):
        raise ValueError(
            f"Expected {name} of shape ({size}, {size}). Received: {name}.shape={cov.shape}"
        )
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"Expected {name} to hold finite values. Received: {name}={cov}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"Expected {name} to be symmetric. Received: {name}={cov}")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        smallest = np.linalg.eigvalsh(cov).min()
        raise ValueError(
            f"Expected {name} to be positive definite. "
            f"Received: {name} with smallest eigenvalue {smallest:.3g}"
        ) from None


def _log_det(chol: np.ndarray) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(chol))))


def gaussian_kl(mean_q, cov_q, mean_p, cov_p) -> float:
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) between two full-covariance Gaussians.

    Uses the general formula
    ``0.5 * (tr(P^-1 Q) + (mp - mq)^T P^-1 (mp - mq) - d + log det P - log det Q)``,
    independently of any latent-variable model.

    Args:
        mean_q: mean of the first Gaussian, shape ``(d,)``.
        cov_q: its covariance, shape ``(d, d)``, symmetric positive definite.
        mean_p: mean of the second Gaussian, shape ``(d,)``.
        cov_p: its covariance, shape ``(d, d)``, symmetric positive definite.

    Returns:
        The divergence in nats (a float, >= 0).

    Example:
        >>> round(gaussian_kl([1.0], [[1.0]], [0.0], [[1.0]]), 3)
        0.5
    """
    mean_q = _as_vector(mean_q, "mean_q")
    dim = mean_q.shape[0]
    mean_p = _as_vector(mean_p, "mean_p", dim)
    chol_q = _cholesky(cov_q, "cov_q", dim)
    chol_p = _cholesky(cov_p, "cov_p", dim)
    # P^-1 Q = L_p^-T L_p^-1 L_q L_q^T, so tr(P^-1 Q) = ||L_p^-1 L_q||_F^2.
    solved = np.linalg.solve(chol_p, chol_q)
    diff = np.linalg.solve(chol_p, mean_p - mean_q)
    trace = float(np.sum(solved**2))
    mahalanobis = float(diff @ diff)
    return 0.5 * (trace + mahalanobis - dim + _log_det(chol_p) - _log_det(chol_q))


@dataclass(frozen=True)
class LinearGaussianModel:
    """The linear-Gaussian latent model ``z ~ N(0, I_d)``, ``x | z ~ N(W z + b, s^2 I_D)``.

    Args:
        weight: the loading matrix ``W``, shape ``(D, d)``.
        bias: the offset ``b``, shape ``(D,)``.
        noise_var: the observation noise variance ``s^2`` (a float > 0).

    Example:
        >>> model = LinearGaussianModel.random(latent_dim=2, data_dim=5, seed=0)
        >>> x = model.sample(1, seed=1)[0]
        >>> mean, cov = model.posterior(x)
        >>> bool(abs(model.elbo(x, mean, cov) - model.log_evidence(x)) < 1e-10)
        True
    """

    weight: np.ndarray
    bias: np.ndarray
    noise_var: float

    def __post_init__(self):
        weight = np.asarray(self.weight, dtype=np.float64)
        if weight.ndim != 2:
            raise ValueError(
                "Expected weight of shape (data_dim, latent_dim). "
                f"Received: weight.shape={weight.shape}"
            )
        if not np.all(np.isfinite(weight)):
            raise ValueError(f"Expected weight to hold finite values. Received: weight={weight}")
        bias = _as_vector(self.bias, "bias", weight.shape[0])
        noise_var = float(self.noise_var)
        if not (np.isfinite(noise_var) and noise_var > 0):
            raise ValueError(f"Expected noise_var > 0. Received: noise_var={self.noise_var}")
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "noise_var", noise_var)

    @classmethod
    def random(
        cls, latent_dim: int, data_dim: int, noise_var: float = 0.5, seed: int | None = None
    ) -> LinearGaussianModel:
        """A model with standard-normal ``W`` and ``b`` drawn from ``seed``."""
        if latent_dim < 1 or data_dim < 1:
            raise ValueError(
                "Expected latent_dim >= 1 and data_dim >= 1. "
                f"Received: latent_dim={latent_dim}, data_dim={data_dim}"
            )
        rng = np.random.default_rng(seed)
        weight = rng.standard_normal((data_dim, latent_dim))
        bias = rng.standard_normal(data_dim)
        return cls(weight, bias, noise_var)

    @property
    def latent_dim(self) -> int:
        return self.weight.shape[1]

    @property
    def data_dim(self) -> int:
        return self.weight.shape[0]

    def _check_x(self, x) -> np.ndarray:
        return _as_vector(x, "x", self.data_dim)

    def sample(self, num: int, seed: int | None = None) -> np.ndarray:
        """Draw ``num`` observations from ``p(x)``; returns shape ``(num, D)``."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((num, self.latent_dim))
        noise = np.sqrt(self.noise_var) * rng.standard_normal((num, self.data_dim))
        return z @ self.weight.T + self.bias + noise

    def marginal_cov(self) -> np.ndarray:
        """Covariance of ``p(x)``: ``W W^T + s^2 I``, shape ``(D, D)``."""
        return self.weight @ self.weight.T + self.noise_var * np.eye(self.data_dim)

    def log_evidence(self, x) -> float:
        """Exact ``log p(x)`` in nats: the log density of ``N(b, W W^T + s^2 I)`` at ``x``.

        Args:
            x: one observation, shape ``(D,)``.
        """
        x = self._check_x(x)
        return float(stats.multivariate_normal.logpdf(x, mean=self.bias, cov=self.marginal_cov()))

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The exact posterior ``p(z | x) = N(mean, cov)``.

        ``cov = (I + W^T W / s^2)^-1`` and ``mean = cov W^T (x - b) / s^2``.

        Args:
            x: one observation, shape ``(D,)``.

        Returns:
            ``(mean, cov)`` of shapes ``(d,)`` and ``(d, d)``.
        """
        x = self._check_x(x)
        precision = np.eye(self.latent_dim) + self.weight.T @ self.weight / self.noise_var
        cov = np.linalg.inv(precision)
        cov = 0.5 * (cov + cov.T)
        mean = cov @ self.weight.T @ (x - self.bias) / self.noise_var
        return mean, cov

    def log_joint(self, x, z) -> np.ndarray:
        """``log p(z) + log p(x | z)`` for codes ``z`` of shape ``(n, d)``; returns ``(n,)``."""
        x = self._check_x(x)
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        log_prior = -0.5 * np.sum(z**2, axis=-1) - 0.5 * self.latent_dim * _LOG_2PI
        residual = x - self.bias - z @ self.weight.T
        log_lik = -0.5 * np.sum(residual**2, axis=-1) / self.noise_var
        log_lik -= 0.5 * self.data_dim * (_LOG_2PI + np.log(self.noise_var))
        return log_prior + log_lik

    def elbo_terms(self, x, q_mean, q_cov) -> tuple[float, float]:
        """The two ELBO terms for ``q(z | x) = N(q_mean, q_cov)``, both in closed form.

        Args:
            x: one observation, shape ``(D,)``.
            q_mean: mean of ``q``, shape ``(d,)``.
            q_cov: covariance of ``q``, shape ``(d, d)``, symmetric positive definite.

        Returns:
            ``(expected_log_likelihood, kl_to_prior)``: ``E_q[log p(x | z)]`` and
            ``KL(q || N(0, I))``; the ELBO is the first minus the second.
        """
        x = self._check_x(x)
        q_mean = _as_vector(q_mean, "q_mean", self.latent_dim)
        chol = _cholesky(q_cov, "q_cov", self.latent_dim)
        q_cov = np.asarray(q_cov, dtype=np.float64)
        residual = x - self.bias - self.weight @ q_mean
        # E_q ||x - b - W z||^2 = ||x - b - W m||^2 + tr(W S W^T).
        expected_sq = residual @ residual + np.sum((self.weight @ chol) ** 2)
        expected_log_lik = -0.5 * expected_sq / self.noise_var - 0.5 * self.data_dim * (
            _LOG_2PI + np.log(self.noise_var)
        )
        kl = 0.5 * (np.trace(q_cov) + q_mean @ q_mean - self.latent_dim - _log_det(chol))
        return float(expected_log_lik), float(kl)

    def elbo(self, x, q_mean, q_cov) -> float:
        """Closed-form ELBO ``E_q[log p(x | z)] - KL(q || p(z))`` for ``q = N(q_mean, q_cov)``.

        Args:
            x: one observation, shape ``(D,)``.
            q_mean: mean of ``q``, shape ``(d,)``.
            q_cov: covariance of ``q``, shape ``(d, d)``, symmetric positive definite.

        Returns:
            The ELBO in nats; it is ``<= log_evidence(x)``, with equality exactly when
            ``q`` is the posterior.
        """
        expected_log_lik, kl = self.elbo_terms(x, q_mean, q_cov)
        return expected_log_lik - kl

    def elbo_monte_carlo(
        self, x, q_mean, q_cov, num_samples: int = 1000, seed: int | None = None
    ) -> tuple[float, float]:
        """Monte Carlo ELBO: the average of ``log p(x, z) - log q(z)`` over ``z ~ q``.

        Args:
            x: one observation, shape ``(D,)``.
            q_mean: mean of ``q``, shape ``(d,)``.
            q_cov: covariance of ``q``, shape ``(d, d)``, symmetric positive definite.
            num_samples: number of draws from ``q`` (>= 2).
            seed: seed of the numpy generator.

        Returns:
            ``(estimate, standard_error)`` in nats.
        """
        if num_samples < 2:
            raise ValueError(f"Expected num_samples >= 2. Received: num_samples={num_samples}")
        q_mean = _as_vector(q_mean, "q_mean", self.latent_dim)
        chol = _cholesky(q_cov, "q_cov", self.latent_dim)
        rng = np.random.default_rng(seed)
        eps = rng.standard_normal((num_samples, self.latent_dim))
        z = q_mean + eps @ chol.T
        log_q = -0.5 * np.sum(eps**2, axis=-1) - 0.5 * self.latent_dim * _LOG_2PI
        log_q -= 0.5 * _log_det(chol)
        values = self.log_joint(x, z) - log_q
        return float(values.mean()), float(values.std(ddof=1) / np.sqrt(num_samples))
