pytest_plugins = ["socialseed.testing"]
