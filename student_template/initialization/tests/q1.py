OK_FORMAT = False

from otter.test_files import test_case

name = 'q1'
points = 0

PUBLIC_CHECKS = '"""Public checks: shapes and cases worked out by hand. Students run these in their notebook."""\n\nimport numpy as np\nimport pytest\n\nfrom grader.numerics import assert_close\n\npytestmark = pytest.mark.visibility("public")\n\n\n@pytest.mark.question("q1")\ndef test_fans_and_gains_by_hand(submission):\n    assert submission.call("fans", (3, 5)) == (3, 5), "fans((3, 5)) should be (3, 5)"\n    assert submission.call("fans", (2, 2, 3, 4)) == (12, 16), (\n        "fans((2, 2, 3, 4)) should be (12, 16)")\n    assert_close(submission.call("calculate_gain", "relu"), np.sqrt(2), "calculate_gain(\'relu\')")\n\n\n@pytest.mark.question("q2")\ndef test_classical_schemes_shapes(submission):\n    samples = submission.call("uniform_init", (20, 30), 0.5, np.random.default_rng(0))\n    assert getattr(samples, "shape", None) == (20, 30), "uniform_init((20, 30), ...) shape"\n    assert np.all(np.abs(samples) <= 0.5), "uniform_init((20, 30), 0.5, rng) leaves [-0.5, 0.5]"\n    normal = submission.call("normal_init", (20, 30), 0.1, np.random.default_rng(0))\n    assert getattr(normal, "shape", None) == (20, 30), "normal_init((20, 30), ...) shape"\n\n\n@pytest.mark.question("q3")\ndef test_fan_schemes_shapes(submission):\n    for name in ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal"):\n        samples = submission.call(name, (4, 6), np.random.default_rng(0))\n        assert getattr(samples, "shape", None) == (4, 6), f"{name}((4, 6), rng) shape"\n\n\n@pytest.mark.question("q4")\ndef test_orthogonal_and_identity_by_hand(submission):\n    Q = submission.call("orthogonal_init", (5, 3), np.random.default_rng(0))\n    assert_close(Q.T @ Q, np.eye(3), "orthogonal_init((5, 3), rng): Q^T Q")\n    assert_close(submission.call("identity_init", (2, 3)), np.eye(2, 3), "identity_init((2, 3))")\n\n\ndef _identity_init(shape, rng):\n    return np.eye(*shape)\n\n\n@pytest.mark.question("q5")\ndef test_propagation_through_identity_layers(submission):\n    result = submission.call("signal_propagation", _identity_init, 3, 8, "linear",\n                             np.random.default_rng(0), 50)\n    activation, gradient = result["activation_std"], result["gradient_std"]\n    assert getattr(activation, "shape", None) == (3,), "activation_std should have shape (depth,)"\n    assert_close(activation, np.full(3, activation[0]), "activation_std through identity layers")\n    assert_close(gradient, np.full(3, gradient[0]), "gradient_std through identity layers")\n\n\n@pytest.mark.question("q6")\ndef test_rnn_norms_by_hand(submission):\n    assert_close(submission.call("linear_rnn_gradient_norms", 0.5 * np.eye(3), 3),\n                 np.array([0.5, 0.25, 0.125]), "linear_rnn_gradient_norms(0.5 I, 3)")\n'


@test_case(name="public checks of q1", points=0, hidden=False)
def public_checks(env):
    from grader.student import check

    check('q1', env, PUBLIC_CHECKS)
