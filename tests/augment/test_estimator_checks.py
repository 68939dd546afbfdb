"""imbalanced-learn's sampler checks over every sampler, scikit-learn's estimator checks over the models."""

from __future__ import annotations

import pytest
from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from adan_ser.augment.aae import AAE
from adan_ser.augment.adan import ADAN
from adan_ser.augment.adan_separate import SeparateADAN
from adan_ser.augment.baselines import (
    ADASYNSampler,
    BorderlineSMOTESampler,
    DuplicateSampler,
    GaussianNoiseSampler,
    SMOTESampler,
)
from adan_ser.augment.samplers import AAESampler, ADANSampler, SeparateADANSampler

#: Networks small and short enough that one fit takes milliseconds.
TINY = dict(latent_dim=4, noise_dim=4, enc_hidden=(8,), gen_hidden=(8,), disc_hidden=(8,), epochs=1,
            early_stop=False, device="cpu")
#: The same for the AAE (no generator, no early stop).
TINY_AAE = dict(latent_dim=4, enc_hidden=(8,), disc_hidden=(8,), epochs=1, device="cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


SAMPLERS = [
    DuplicateSampler(),
    GaussianNoiseSampler(),
    SMOTESampler(),
    BorderlineSMOTESampler(),
    ADASYNSampler(),
    ADANSampler(ADAN(clf_hidden=(8,), **TINY), n_sets=1),
    SeparateADANSampler(SeparateADAN(ae_epochs=1, **TINY), n_sets=1),
    AAESampler(AAE(**TINY_AAE), n_sets=1),
]

#: Checks that cannot apply, by check name, with the reason (the same for every sampler).
SAMPLER_SKIPS = {
    "check_samplers_pandas_sparse": "features are dense: sparse input is refused (input_tags.sparse is "
                                    "False), but imblearn runs this check for every sampler that takes "
                                    "DataFrames",
}


@imblearn_checks(SAMPLERS, expected_failed_checks=lambda est: SAMPLER_SKIPS)
def test_samplers_pass_imblearn_checks(estimator, check):
    check(estimator)


MODELS = [ADAN(clf_hidden=(8,), **TINY), SeparateADAN(ae_epochs=1, **TINY), AAE(**TINY_AAE)]

#: Checks that cannot apply to the models, by check name, with the reason.
MODEL_SKIPS = {
    "check_fit2d_predict1d": "the 1-D input error is raised, but as one line (scikit-learn's first line): "
                             "the lines after it, which the check looks for, print the whole array",
}


#: Checks that cannot apply to the AAE in addition, with the reason.
AAE_SKIPS = {
    "check_methods_subset_invariance": "float32 matrix products sum in another order on one row than on "
                                       "many (~1e-7 relative); ADAN's tanh codes (|h| < 1) stay within the "
                                       "check's atol of 1e-7, the AAE's linear codes (|z| ~ prior_radius) "
                                       "do not",
}


def _model_skips(est) -> dict:
    return {**MODEL_SKIPS, **AAE_SKIPS} if isinstance(est, AAE) else MODEL_SKIPS


@sklearn_checks(MODELS, expected_failed_checks=_model_skips)
def test_models_pass_sklearn_checks(estimator, check):
    check(estimator)
