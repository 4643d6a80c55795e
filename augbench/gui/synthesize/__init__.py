"""The Synthesize tab: its view (`view.py`, defines TAB_TITLE and create_tab) and the modules it is built from."""
