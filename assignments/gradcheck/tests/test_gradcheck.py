"""Hidden tests of q5 (the gradient check's pass/fail decision).

gradcheck is given f = sum(C exp(K x)) (cases.exponentials), where any numerical gradient,
centered or forward, is within 1e-6 of the exact one, and the exact gradient, or a wrong
variant of it, as the function returning it at x (cases.given). So what gradcheck should
answer is decided here, by a margin far above the numerical error: a numerical_gradient with
a forward difference, or with elements not put back, does not change it (q2 grades those).
One q2 bug does change it, a numerical_gradient that ignores h: the test of the step asks
that function first, and does not charge gradcheck for it.
"""

import exact
import numpy as np
import pytest
from cases import exponential_coefficients, exponentials, given

from grader.numerics import FINITE_DIFFERENCE, assert_close, describe, random_inputs
from grader.sandbox import MissingName, ReplyError, StudentError

TOLERANCES = "|g - n| <= atol + rtol |n| element by element, with the given atol and rtol"


def checked(rng, shape, band=None, magnitudes=None):
    """f, x and the exact gradient at x; with `band` = (low, high), every element of the
    gradient has a magnitude in that band; with `magnitudes`, exactly those."""
    (C, K), x = exponential_coefficients(rng, shape), random_inputs(rng, shape)
    if band is not None:
        magnitudes = rng.uniform(*band, shape)
    if magnitudes is not None:
        C = magnitudes / (np.abs(K) * np.exp(K * x))
    return exponentials(C, K), x, exact.exponentials_gradient(C, K, x)


def assert_verdict(submission, expected, what, hint, f, gradient, x, *settings):
    """gradcheck(f, grad_f, x, *settings) with grad_f returning `gradient` must answer the bool
    `expected`."""
    answer = verdict(submission, what, hint, f, gradient, x, *settings)
    assert answer == expected, (f"gradcheck returned {answer} for {what}: it should return "
                                f"{expected} ({hint})")


def assert_accepts_the_right_one(submission, f, gradient, x, *settings):
    """The test of a rejection first asks for the acceptance of the exact gradient of the same
    f at the same x, so that a gradcheck answering False to everything earns nothing."""
    assert_verdict(submission, True, "the exact gradient (asked before the wrong one, for the "
                   "same f and x)", "that gradient is right", f, gradient, x, *settings)


def verdict(submission, what, hint, f, gradient, x, *settings) -> bool:
    try:
        answer = submission.call("gradcheck", f, given(gradient), x, *settings)
    except StudentError as error:
        where = f" ({error.where[-1]})" if error.where else ""
        raise AssertionError(f"gradcheck raised {error}{where} for {what}: it should return "
                             f"True or False ({hint})") from None
    if not isinstance(answer, (bool, np.bool_)):
        raise AssertionError(f"gradcheck returned {describe(answer)} for {what}: it should "
                             f"return True or False")
    return bool(answer)


@pytest.mark.question("q5")
def test_gradcheck_accepts_a_correct_gradient(submission, rng):
    for shape in [(3, 4), (6,)]:
        f, x, gradient = checked(rng, shape)
        assert_verdict(submission, True, f"a correct gradient (x of shape {shape})",
                       "that gradient is right", f, gradient, x)


@pytest.mark.question("q5")
@pytest.mark.points(2)
@pytest.mark.parametrize("factor", [1.01, 0.99, -1.0, 1.00015])
def test_gradcheck_rejects_a_wrong_gradient(submission, rng, factor):
    f, x, gradient = checked(rng, (3, 4))
    assert_accepts_the_right_one(submission, f, gradient, x)
    assert_verdict(submission, False, f"a gradient wrong by a factor {factor:g} (x of shape "
                   f"(3, 4), default tolerances)", f"check {TOLERANCES}; a relative error "
                   f"|g - n| / (|g| + |n|) is half as strict as rtol", f, factor * gradient, x)


@pytest.mark.question("q5")
def test_gradcheck_rejects_one_wrong_element(submission, rng):
    # One small element among large ones, wrong by 1%: only an element-by-element test
    # catches it (not a mean, a norm, or a tolerance scaled by the largest element).
    index = tuple(int(i) for i in rng.integers(0, (3, 4)))
    magnitudes = rng.uniform(1.0, 3.0, (3, 4))
    magnitudes[index] = rng.uniform(1e-3, 3e-3)
    f, x, gradient = checked(rng, (3, 4), magnitudes=magnitudes)
    assert_accepts_the_right_one(submission, f, gradient, x)
    wrong = gradient.copy()
    wrong[index] *= 1.01
    assert_verdict(submission, False, f"a gradient wrong by 1% at index {list(index)} only, "
                   f"its smallest element (x of shape (3, 4))", "every element must pass on "
                   "its own: np.all over elements, not np.any, a mean or a norm, and rtol "
                   "times |n_i| of that element", f, wrong, x)


@pytest.mark.question("q5")
def test_gradcheck_uses_the_given_tolerances(submission, rng):
    f, x, gradient = checked(rng, (2, 3))
    cases = [(1.01, 1.0, 0.0, True, "with atol = 1 a gradient wrong by 1% passes: use atol"),
             (1.01, 0.0, 0.1, True, "with rtol = 0.1 a gradient wrong by 1% passes: use rtol"),
             (1 + 1e-5, 0.0, 1e-7, False, "with rtol = 1e-7 a gradient wrong by 1e-5 fails: "
                                          "use rtol")]
    for factor, atol, rtol, expected, why in cases:
        assert_verdict(submission, expected, f"gradcheck(f, grad_f, x, h=1e-6, atol={atol:g}, "
                       f"rtol={rtol:g}) with grad_f wrong by a factor {factor:g}", why,
                       f, factor * gradient, x, 1e-6, atol, rtol)


@pytest.mark.question("q5")
def test_gradcheck_accepts_within_tolerance_at_any_scale(submission, rng):
    small_f, small_x, small = checked(rng, (3, 4), band=(1e-4, 3e-4))
    large_f, large_x, large = checked(rng, (3, 4), band=(1e3, 3e3))
    middle_f, middle_x, middle = checked(rng, (3, 4), band=(0.009, 0.011))
    cases = [(small_f, small_x, small + 5e-7, "a gradient of size 1e-4 to 3e-4 that is off by "
              "5e-7 everywhere (within atol = 1e-6)"),
             (large_f, large_x, large * (1 + 1e-5), "a gradient of size 1e3 to 3e3 that is off "
              "by 1e-5 of itself (within rtol = 1e-4, though off by more than 1e-2)"),
             (middle_f, middle_x, middle + 1.6e-6, "a gradient of size 0.009 to 0.011 that is "
              "off by 1.6e-6 everywhere (within atol + rtol |n| >= 1.9e-6, though beyond atol "
              "and beyond rtol |n| alone)")]
    for f, x, gradient, described in cases:
        assert_verdict(submission, True, described, f"check {TOLERANCES}: atol for small "
                       f"gradients, rtol for large ones, their sum between", f, gradient, x)


@pytest.mark.question("q5")
def test_gradcheck_accepts_zero_gradients(submission, rng):
    (C, K), x = exponential_coefficients(rng, (3, 4)), random_inputs(rng, (3, 4))
    C[0, :] = 0.0  # f does not depend on the first row: its gradient there is exactly 0
    gradient = exact.exponentials_gradient(C, K, x)
    gradient[0, 1:] = 5e-7 * rng.choice([-1.0, 1.0], 3)
    assert_verdict(submission, True, "a correct gradient with exact zeros in its first row "
                   "(given as 0 once and as ±5e-7, within atol = 1e-6, elsewhere in that row)",
                   f"check {TOLERANCES}; dividing by |n| fails where n = 0",
                   exponentials(C, K), gradient, x)


@pytest.mark.question("q5")
def test_gradcheck_rejects_nan(submission, rng):
    f, x, gradient = checked(rng, (3, 4))
    broken = gradient.copy()
    broken[tuple(int(i) for i in rng.integers(0, (3, 4)))] = np.nan
    C, K = exponential_coefficients(rng, (3, 4))
    C[1, 2] = np.nan  # f itself answers nan: so does every numerical difference
    hint = ("a comparison with nan is False, so test that every element passes, not that none "
            "fails")
    assert_accepts_the_right_one(submission, f, gradient, x)
    assert_verdict(submission, False, "a gradient with one nan element", hint, f, broken, x)
    assert_verdict(submission, False, "an f that returns nan (so the numerical gradient is "
                   "nan)", hint, exponentials(C, K), gradient, x)


@pytest.mark.question("q5")
def test_gradcheck_rejects_a_gradient_of_the_wrong_shape(submission, rng):
    for shape, reshape, described in [
            ((3, 4), lambda g: g.ravel(), "flattened to shape (12,)"),
            ((3, 4), lambda g: g.reshape(4, 3), "reshaped to (4, 3)"),
            ((5,), lambda g: g[None, :], "with an extra axis, shape (1, 5)"),
            ((5,), lambda g: g[:, None], "with an extra axis, shape (5, 1)"),
            ((4, 1), lambda g: g.T, "transposed to shape (1, 4)")]:
        f, x, gradient = checked(rng, shape)
        assert_accepts_the_right_one(submission, f, gradient, x)
        assert_verdict(submission, False, f"the right values {described} for x of shape "
                       f"{shape}", "a gradient must have the shape of x; comparing flattened "
                       "arrays or letting numpy broadcast hides the mistake",
                       f, reshape(gradient), x)


@pytest.mark.question("q5")
def test_gradcheck_uses_the_given_step(submission, rng):
    f, x, gradient = checked(rng, (3, 4))
    # Asked before gradcheck sees anything of this x: a numerical_gradient that ignores h
    # (q2's to answer for) gives the exact gradient at h = 0.1, and then True is right.
    try:
        ignores_h = submission.call("numerical_gradient", f, x, 0.1)
        assert_close(ignores_h, gradient, "numerical_gradient(f, x, h=0.1)", FINITE_DIFFERENCE)
    except (AssertionError, MissingName, ReplyError, StudentError):
        ignores_h = None
    what = "gradcheck(f, grad_f, x, h=0.1) with the exact gradient of f = sum(C exp(K x))"
    hint = ("with h = 0.1 the numerical gradient is off by about h^2 K^2 / 6 > 1e-4 of it; pass "
            "h on to the numerical gradient")
    assert_accepts_the_right_one(submission, f, gradient, x, 1e-6)
    answer = verdict(submission, what, hint, f, gradient, x, 0.1)
    assert not answer or ignores_h is not None, (
        f"gradcheck returned True for {what}: it should return False ({hint})")


@pytest.mark.question("q5")
def test_gradcheck_leaves_x_alone(submission, rng):
    f, x, gradient = checked(rng, (3, 4))
    _, (_, _, after, *_) = submission.call_with_inputs("gradcheck", f, given(gradient), x)
    if isinstance(after, np.ndarray) and np.array_equal(after, x):
        return
    try:  # a numerical_gradient that changes x is q2's to answer for
        _, (_, before_gradient, *_) = submission.call_with_inputs("numerical_gradient", f, x)
    except (MissingName, ReplyError, StudentError):
        before_gradient = x
    assert isinstance(before_gradient, np.ndarray) and not np.array_equal(before_gradient, x), (
        "gradcheck(f, grad_f, x) changed x: after it returned, x did not hold its original "
        "values (give the numerical gradient a copy)")
