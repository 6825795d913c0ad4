"""PyTorch twins of the landslide networks: the same layers, in the same order, with the
same parameter counts as Sources/Models, for benchmarking side by side and for forward
fixtures. Images are NCHW here and NHWC in Swift; wherever the Swift network flattens or
pools over a layout-dependent axis, the twin permutes to channels-last first, so that
weights map one to one:

    conv  Swift [KH, KW, Cin, Cout]  ->  torch [Cout, Cin, KH, KW]
    dense Swift [in, out]            ->  torch [out, in]

`set_formula_weights` fills every parameter and running statistic from a formula of its
position in Swift's named order, so that a fixture needs no stored weights.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

KERAS_BN = dict(eps=1e-3, momentum=0.01)  # Keras momentum 0.99 is PyTorch's 0.01


class Bottleneck(nn.Module):
    def __init__(self, inputs, width, outputs, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 1, stride=stride)
        self.norm1 = nn.BatchNorm2d(width, **KERAS_BN)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(width, **KERAS_BN)
        self.conv3 = nn.Conv2d(width, outputs, 1)
        self.norm3 = nn.BatchNorm2d(outputs, **KERAS_BN)
        self.shortcut = None
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Conv2d(inputs, outputs, 1, stride=stride)
            self.shortcut_norm = nn.BatchNorm2d(outputs, **KERAS_BN)

    def forward(self, x):
        h = F.relu(self.norm1(self.conv1(x)))
        h = F.relu(self.norm2(self.conv2(h)))
        h = self.norm3(self.conv3(h))
        residual = x if self.shortcut is None else self.shortcut_norm(self.shortcut(x))
        return F.relu(h + residual)


class Susceptibility(nn.Module):
    def __init__(self, blocks=(3, 4, 6, 3), channels=13, dropout=0.3):
        super().__init__()
        self.stem = nn.Conv2d(channels, 64, 4, stride=2, padding=3)
        self.stem_norm = nn.BatchNorm2d(64, **KERAS_BN)
        self.stem_dropout = nn.Dropout(dropout)
        widths = [(64, 256), (128, 512), (256, 1024), (512, 2048)]
        stages, inputs = [], 64
        for stage, count in enumerate(blocks):
            width, outputs = widths[stage]
            blocks_ = []
            for block in range(count):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks_.append(Bottleneck(inputs, width, outputs, stride))
                inputs = outputs
            stages.append(nn.Sequential(*blocks_))
        self.stages = nn.Sequential(*stages)
        self.head_dropout = nn.Dropout(dropout)
        self.head = nn.Conv2d(inputs, 1, 3, padding=1)
        self.head_norm = nn.BatchNorm2d(1, **KERAS_BN)

    def logits(self, x):
        h = F.relu(self.stem_dropout(self.stem_norm(self.stem(x))))
        h = F.max_pool2d(h, 3, 2)
        h = self.stages(h)
        return self.head_norm(F.relu(self.head(self.head_dropout(h))))

    def forward(self, x):
        return torch.sigmoid(self.logits(x))

    def swift_order(self):
        """Parameters and running statistics in the order of Swift's namedTensors."""
        tensors = [self.stem.weight, self.stem.bias] + bn(self.stem_norm)
        for stage in self.stages:
            for block in stage:
                for conv, norm in [(block.conv1, block.norm1), (block.conv2, block.norm2), (block.conv3, block.norm3)]:
                    tensors += [conv.weight, conv.bias] + bn(norm)
                if block.shortcut is not None:
                    tensors += [block.shortcut.weight, block.shortcut.bias] + bn(block.shortcut_norm)
        return tensors + [self.head.weight, self.head.bias] + bn(self.head_norm)


class Density(nn.Module):
    def __init__(self, channels=13, widths=(512, 128, 32)):
        super().__init__()
        self.stem = nn.Conv2d(channels, 64, 4, stride=2, padding=3)
        self.stem_norm = nn.BatchNorm2d(64, **KERAS_BN)
        self.pointwise = nn.Conv2d(64, 128, 1)
        self.pointwise_norm = nn.BatchNorm2d(128, **KERAS_BN)
        layers, inputs = [], 3 * 3 * 128
        for width in widths:
            layers.append(nn.Linear(inputs, width))
            inputs = width
        self.hidden = nn.ModuleList(layers)
        self.output = nn.Linear(inputs, 1)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.stem_norm(self.stem(x))), 3, 2)
        h = F.max_pool2d(self.pointwise_norm(F.relu(self.pointwise(h))), 3, 2)
        h = h.permute(0, 2, 3, 1).flatten(1)  # channels-last flatten, as in Swift
        for layer in self.hidden:
            h = F.relu(layer(h))
        return F.relu(self.output(h))

    def swift_order(self):
        tensors = [self.stem.weight, self.stem.bias] + bn(self.stem_norm)
        tensors += [self.pointwise.weight, self.pointwise.bias] + bn(self.pointwise_norm)
        for layer in self.hidden:
            tensors += [layer.weight, layer.bias]
        return tensors + [self.output.weight, self.output.bias]


class Encoder(nn.Module):
    def __init__(self, width=3, heads=2, head_size=1, feed_forward=4, dropout=0.3):
        super().__init__()
        self.heads = heads
        self.attention_norm = nn.LayerNorm(width, eps=1e-6)
        self.query = nn.Linear(width, heads * head_size)
        self.key = nn.Linear(width, heads * head_size)
        self.value = nn.Linear(width, heads * head_size)
        self.out = nn.Linear(heads * head_size, width)
        self.attention_dropout = nn.Dropout(dropout)
        self.feed_forward_norm = nn.LayerNorm(width, eps=1e-6)
        self.expand = nn.Linear(width, feed_forward)
        self.feed_forward_dropout = nn.Dropout(dropout)
        self.contract = nn.Linear(feed_forward, width)

    def forward(self, x):
        b, t, _ = x.shape
        n = self.attention_norm(x)
        split = lambda y: y.view(b, t, self.heads, -1).transpose(1, 2)
        attended = F.scaled_dot_product_attention(split(self.query(n)), split(self.key(n)), split(self.value(n)))
        attended = self.out(attended.transpose(1, 2).reshape(b, t, -1))
        h = self.attention_dropout(attended) + x
        f = self.feed_forward_dropout(F.relu(self.expand(self.feed_forward_norm(h))))
        return self.contract(f) + h

    def swift_order(self):
        tensors = [self.attention_norm.weight, self.attention_norm.bias]
        for layer in [self.query, self.key, self.value, self.out]:
            tensors += [layer.weight, layer.bias]
        tensors += [self.feed_forward_norm.weight, self.feed_forward_norm.bias]
        return tensors + [self.expand.weight, self.expand.bias, self.contract.weight, self.contract.bias]


class Transformer(nn.Module):
    def __init__(self, length, components=3, static=5, blocks=2, static_blocks=8, static_width=32,
                 static_output=512, head_widths=(128, 128)):
        super().__init__()
        self.encoder = nn.ModuleList([Encoder(components) for _ in range(blocks)])
        self.static_dense = nn.ModuleList()
        self.static_norm = nn.ModuleList()
        inputs = static
        for _ in range(static_blocks):
            self.static_dense.append(nn.Linear(inputs, static_width))
            self.static_norm.append(nn.BatchNorm1d(static_width, **KERAS_BN))
            inputs = static_width
        self.static_output = nn.Linear(inputs, static_output)
        self.static_dropout = nn.Dropout(0.3)
        width = length + static_output
        self.head = nn.ModuleList()
        for hidden in head_widths:
            self.head.append(nn.Linear(width, hidden))
            width = hidden
        self.head_dropout = nn.Dropout(0.2)
        self.output = nn.Linear(width, 1)

    def logits(self, series, covariates):
        h = series
        for block in self.encoder:
            h = block(h)
        features = h.mean(dim=2)
        s = covariates
        for dense, norm in zip(self.static_dense, self.static_norm):
            s = F.leaky_relu(self.static_dropout(norm(dense(s))), 0.02)
        s = F.relu(self.static_output(s))
        h = torch.cat([features, s], dim=1)
        for layer in self.head:
            h = self.head_dropout(F.relu(layer(h)))
        return self.output(h)

    def forward(self, series, covariates):
        return torch.sigmoid(self.logits(series, covariates))

    def swift_order(self):
        tensors = []
        for block in self.encoder:
            tensors += block.swift_order()
        for dense, norm in zip(self.static_dense, self.static_norm):
            tensors += [dense.weight, dense.bias] + bn(norm)
        tensors += [self.static_output.weight, self.static_output.bias]
        for layer in self.head:
            tensors += [layer.weight, layer.bias]
        return tensors + [self.output.weight, self.output.bias]


def bn(norm):
    return [norm.weight, norm.bias, norm.running_mean, norm.running_var]


def swift_shape(tensor):
    """The shape Swift stores a tensor in (HWIO convs, [in, out] dense weights)."""
    if tensor.dim() == 4:
        out, inp, kh, kw = tensor.shape
        return (kh, kw, inp, out)
    if tensor.dim() == 2:
        return (tensor.shape[1], tensor.shape[0])
    return tuple(tensor.shape)


def formula(index, count, fan_in, kind):
    """Value i of tensor number `index`, as Sources/Models' fixture test computes it."""
    i = torch.arange(count, dtype=torch.float64)
    wave = torch.sin(0.37 * i + 0.71 * index)
    if kind == "weight":
        return wave * math.sqrt(3.0 / fan_in)
    if kind == "gamma":
        return 1 + 0.2 * wave
    if kind == "variance":
        return 1 + 0.5 * wave * wave
    return 0.1 * wave  # biases, betas, running means


def kinds(model):
    """Kind of each tensor in swift_order, matching the Swift test's rule."""
    result = []
    bn_params = set()
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
            bn_params.add(id(module.weight))
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            bn_params.add(("var", id(module.running_var)))
    for tensor in model.swift_order():
        if id(tensor) in bn_params:
            result.append("gamma")
        elif ("var", id(tensor)) in bn_params:
            result.append("variance")
        elif tensor.dim() >= 2:
            result.append("weight")
        else:
            result.append("bias")
    return result


@torch.no_grad()
def set_formula_weights(model):
    for index, (tensor, kind) in enumerate(zip(model.swift_order(), kinds(model))):
        shape = swift_shape(tensor)
        fan_in = math.prod(shape[:-1]) if len(shape) >= 2 else 1
        values = formula(index, tensor.numel(), fan_in, kind).reshape(shape)
        if tensor.dim() == 4:
            values = values.permute(3, 2, 0, 1)
        elif tensor.dim() == 2:
            values = values.t()
        tensor.copy_(values.to(tensor.dtype))
