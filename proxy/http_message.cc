// Placeholder so the tree configures; the owner replaces this file.
