import pytest

import chipgap


@pytest.fixture(scope="session")
def catalog():
    """The bundled catalog, loaded once for the whole run."""
    return chipgap.load_catalog()
