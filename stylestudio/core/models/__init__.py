"""Networks: the style generator, the PatchGAN discriminator, VGG19 features, a reference net."""
